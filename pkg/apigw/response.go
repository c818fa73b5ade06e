package apigw

import (
	"bytes"
	"encoding/base64"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// recorder is the in-memory http.ResponseWriter a handler writes to. Like a
// net/http server it freezes the header map at WriteHeader, defaults the
// status to 200 and sniffs a missing Content-Type.
type recorder struct {
	header      http.Header
	wroteHeader bool
	status      int
	sent        http.Header // the header as it was at WriteHeader
	body        bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: make(http.Header)} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.wroteHeader {
		return
	}
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	if status >= 100 && status < 200 {
		return // informational responses cannot be relayed through API Gateway
	}
	r.wroteHeader = true
	r.status = status
	r.sent = r.header.Clone()
}

func (r *recorder) Write(p []byte) (int, error) {
	if !r.wroteHeader {
		if r.header.Get("Content-Type") == "" && r.header.Get("Content-Encoding") == "" && len(p) > 0 {
			r.header.Set("Content-Type", http.DetectContentType(p))
		}
		r.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(r.status) {
		return 0, http.ErrBodyNotAllowed
	}
	return r.body.Write(p)
}

// Flush is a no-op: the response is sent whole when the handler returns.
func (r *recorder) Flush() {}

func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

// hopByHop are connection-level headers (RFC 9110 section 7.6.1) that belong
// to the hop between API Gateway and the client, not to the handler.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Transfer-Encoding": true, "Upgrade": true, "Te": true, "Trailer": true,
}

// response converts what the handler wrote. Repeated header values are joined
// with ", " (RFC 9110 section 5.3 allows it for every field but Set-Cookie),
// and Set-Cookie values go to the cookies list, from which API Gateway emits
// one set-cookie line each.
func (r *recorder) response(method string) events.APIGatewayV2HTTPResponse {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	resp := events.APIGatewayV2HTTPResponse{StatusCode: r.status, Headers: map[string]string{}}
	for name, values := range r.sent {
		if len(values) == 0 || hopByHop[name] || strings.HasPrefix(name, http.TrailerPrefix) {
			continue
		}
		if name == "Set-Cookie" {
			resp.Cookies = append(resp.Cookies, values...)
			continue
		}
		resp.Headers[name] = strings.Join(values, ", ")
	}
	if method == http.MethodHead {
		return resp
	}
	body := r.body.Bytes()
	if len(body) == 0 {
		return resp
	}
	if isText(r.sent.Get("Content-Type"), r.sent.Get("Content-Encoding"), body) {
		resp.Body = string(body)
	} else {
		resp.Body = base64.StdEncoding.EncodeToString(body)
		resp.IsBase64Encoded = true
	}
	return resp
}

// isText decides whether a body can travel as a JSON string unchanged. It
// must be valid UTF-8 (JSON would otherwise replace bytes), not compressed,
// and of a textual media type; anything else is base64-encoded and API
// Gateway decodes it before sending it on.
func isText(contentType, contentEncoding string, body []byte) bool {
	if contentEncoding != "" && !strings.EqualFold(contentEncoding, "identity") {
		return false
	}
	if !utf8.Valid(body) {
		return false
	}
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"),
		mt == "application/json", mt == "application/xml",
		mt == "application/javascript", mt == "application/x-www-form-urlencoded",
		mt == "application/yaml", mt == "image/svg+xml":
		return true
	}
	return false
}

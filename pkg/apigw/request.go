package apigw

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/triggershq/triggers/pkg/event"
)

// newRequest builds the *http.Request a handler sees for an API Gateway
// event. It returns a CodeMalformedRequest *event.Error (answered with a 400)
// for an event no well-formed client request could have produced.
func newRequest(ctx context.Context, ev *events.APIGatewayV2HTTPRequest, keepStage bool) (*http.Request, error) {
	hc := ev.RequestContext.HTTP
	method := hc.Method
	if method == "" || !isToken(method) {
		return nil, badEvent("requestContext.http.method", "the request method is missing or malformed")
	}

	path := ev.RawPath
	if path == "" {
		path = hc.Path
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "\x00\r\n") {
		return nil, badEvent("rawPath", "the request path is missing or malformed")
	}
	if !keepStage {
		path = stripStage(path, ev.RequestContext.Stage)
	}
	if strings.ContainsAny(ev.RawQueryString, "#\x00\r\n ") {
		return nil, badEvent("rawQueryString", "the query string is malformed")
	}

	body, err := decodeBody(ev.Body, ev.IsBase64Encoded)
	if err != nil {
		return nil, err
	}

	header, err := buildHeader(ev)
	if err != nil {
		return nil, err
	}

	// rawPath arrives percent-decoded (see doc.go), so it is the decoded
	// Path and Go re-escapes it when the URL is printed. RawQuery stays as
	// sent: API Gateway does not decode rawQueryString.
	u := &url.URL{Path: path, RawQuery: ev.RawQueryString}
	host := header.Get("Host")
	if host == "" {
		host = ev.RequestContext.DomainName
	}
	header.Del("Host") // net/http keeps the host in Request.Host, not in Header
	// The body arrives whole and already de-chunked; its framing headers
	// describe the client's hop, so they are restated for the body we have.
	header.Del("Transfer-Encoding")
	header.Del("Content-Length")
	if len(body) > 0 {
		header.Set("Content-Length", strconv.Itoa(len(body)))
	}

	req, err := http.NewRequestWithContext(ctx, method, "/", bytes.NewReader(body))
	if err != nil {
		return nil, badEvent("requestContext.http.method", "the request method is malformed")
	}
	req.URL = u
	req.RequestURI = u.RequestURI()
	req.Host = host
	req.Header = header
	req.ContentLength = int64(len(body))
	if len(body) == 0 {
		req.Body = http.NoBody
		req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	}
	if proto := hc.Protocol; proto != "" {
		if major, minor, ok := http.ParseHTTPVersion(proto); ok {
			req.Proto, req.ProtoMajor, req.ProtoMinor = proto, major, minor
		}
	}
	req.RemoteAddr = remoteAddr(hc.SourceIP)
	if req.Header.Get("X-Request-Id") == "" && ev.RequestContext.RequestID != "" {
		req.Header.Set("X-Request-Id", ev.RequestContext.RequestID)
	}
	return req, nil
}

// stripStage removes a named stage's "/<stage>" prefix from rawPath: for any
// stage but $default, API Gateway keeps it in rawPath, and the routes do not
// know about stages.
func stripStage(path, stage string) string {
	if stage == "" || stage == "$default" {
		return path
	}
	prefix := "/" + stage
	switch {
	case path == prefix:
		return "/"
	case strings.HasPrefix(path, prefix+"/"):
		return path[len(prefix):]
	}
	return path
}

func decodeBody(body string, isBase64 bool) ([]byte, error) {
	if !isBase64 {
		return []byte(body), nil
	}
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		// Some producers of events (and hand-written tests) drop padding.
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(body, "="))
	}
	if err != nil {
		return nil, badEvent("body", "the request body is marked base64 but is not valid base64")
	}
	return b, nil
}

// buildHeader copies the event's headers. API Gateway has already combined
// repeated headers into one comma-separated value, which is also how an HTTP
// server may present them (RFC 9110 section 5.3), so each stays one value:
// splitting again at commas would break values that contain commas, such as
// dates. Cookies come separately and become one Cookie header (RFC 6265
// section 5.4 joins them with "; ").
func buildHeader(ev *events.APIGatewayV2HTTPRequest) (http.Header, error) {
	h := make(http.Header, len(ev.Headers)+2)
	for name, value := range ev.Headers {
		if !isToken(name) {
			return nil, badEvent("headers", "a header name is malformed")
		}
		if !validHeaderValue(value) {
			return nil, badEvent("headers", fmt.Sprintf("the %s header value is malformed", http.CanonicalHeaderKey(name)))
		}
		key := http.CanonicalHeaderKey(name)
		if key == "Cookie" {
			continue // the cookies field is the source of truth for cookies
		}
		if prev := h.Get(key); prev != "" {
			// Two spellings of one name (possible in a hand-built event):
			// combine them the way API Gateway would.
			value = prev + "," + value
		}
		h.Set(key, value)
	}
	var cookies []string
	for _, c := range ev.Cookies {
		if !validHeaderValue(c) {
			return nil, badEvent("cookies", "a cookie is malformed")
		}
		if c = strings.TrimSpace(c); c != "" {
			cookies = append(cookies, c)
		}
	}
	if len(cookies) == 0 {
		if v := headerValue(ev.Headers, "cookie"); v != "" {
			cookies = append(cookies, v)
		}
	}
	if len(cookies) > 0 {
		h.Set("Cookie", strings.Join(cookies, "; "))
	}
	return h, nil
}

// headerValue looks a header up case-insensitively in an event's header map.
// API Gateway sends lower-case names, but hand-built events may not.
func headerValue(headers map[string]string, name string) string {
	if v, ok := headers[name]; ok {
		return v
	}
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// remoteAddr gives RemoteAddr the host:port form net/http servers use, so the
// handlers (and the /token limiter) parse it the same way on both runtimes.
// API Gateway does not report the client's port.
func remoteAddr(ip string) string {
	if ip == "" {
		return ""
	}
	return net.JoinHostPort(ip, "0")
}

// isToken reports whether s is an RFC 9110 token (a method or header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue rejects the bytes RFC 9110 forbids in a field value (CR,
// LF, NUL and other controls except tab), as net/http's server does.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// badEvent describes an event no client request could have produced. The
// field names the event member at fault, for the log.
func badEvent(field, msg string) *event.Error {
	return &event.Error{Code: CodeMalformedRequest, Field: field, Message: msg}
}

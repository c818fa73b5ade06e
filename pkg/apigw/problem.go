package apigw

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/triggershq/triggers/pkg/event"
)

// CodeMalformedRequest is the problem code of a 400 for an event that no
// well-formed HTTP request could have produced (a body marked base64 that is
// not, a malformed method or header). It is the adapter's counterpart of the
// 400 a net/http server sends for a malformed request line.
const CodeMalformedRequest event.Code = "malformed_request"

// statusByCode maps the codes the adapter answers by itself to statuses. It
// agrees with pkg/httpapi's table for the codes both use.
var statusByCode = map[event.Code]int{
	CodeMalformedRequest:   http.StatusBadRequest,
	event.CodeUnauthorized: http.StatusUnauthorized,
	event.CodeInternal:     http.StatusInternalServerError,
}

// problem is the RFC 9457 body, in the same shape as pkg/httpapi's answers:
// type /problems/<code>, title, status, detail and the stable code.
type problem struct {
	Type   string     `json:"type"`
	Title  string     `json:"title"`
	Status int        `json:"status"`
	Detail string     `json:"detail"`
	Code   event.Code `json:"code"`
}

// internalDetail matches pkg/httpapi's: a 5xx reveals nothing.
const internalDetail = "The server could not complete the request. It has been logged; retry later or quote the X-Request-Id header when reporting it."

// problemResponse answers err when the adapter cannot hand the request to the
// handler. requestID is echoed in X-Request-Id, as the handlers do.
func problemResponse(err error, requestID string, extra http.Header) events.APIGatewayV2HTTPResponse {
	code := event.ErrorCode(err)
	status, ok := statusByCode[code]
	if !ok {
		code, status = event.CodeInternal, http.StatusInternalServerError
	}
	p := problem{Type: "/problems/" + string(code), Title: http.StatusText(status), Status: status, Code: code}
	var e *event.Error
	switch {
	case code == event.CodeInternal:
		p.Detail = internalDetail
	case errors.As(err, &e) && e.Message != "":
		p.Detail = e.Message
	default:
		p.Detail = p.Title
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p) // strings and ints always encode
	headers := map[string]string{
		"Content-Type":           "application/problem+json",
		"Content-Length":         strconv.Itoa(buf.Len()),
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
	}
	if requestID != "" {
		headers["X-Request-Id"] = requestID
	}
	for k, v := range extra {
		headers[http.CanonicalHeaderKey(k)] = v[0]
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: buf.String()}
}

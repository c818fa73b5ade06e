package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/triggershq/triggers/pkg/event"
)

// Codes the HTTP layer adds to the domain's: they describe the request as a
// whole (its framing, media type or method), which no store ever sees.
const (
	CodeMalformedJSON    event.Code = "malformed_json"
	CodeMalformedForm    event.Code = "malformed_form"
	CodeUnsupportedMedia event.Code = "unsupported_media_type"
	CodeMethodNotAllowed event.Code = "method_not_allowed"
	// CodeClientClosed answers a request whose client went away before
	// the answer was ready (see clientGone).
	CodeClientClosed event.Code = "client_closed_request"
)

// StatusClientClosedRequest is nginx's 499: not in RFC 9110, but the
// established status for "the client closed the connection first", and a
// 4xx, which is what it is.
const StatusClientClosedRequest = 499

// statusByCode is the one table from error code to HTTP status. A code that
// is not here is a bug and answers 500.
var statusByCode = map[event.Code]int{
	event.CodeInvalid:      http.StatusUnprocessableEntity,
	event.CodeNotFound:     http.StatusNotFound,
	event.CodeConflict:     http.StatusUnprocessableEntity,
	event.CodeTooLarge:     http.StatusRequestEntityTooLarge,
	event.CodeUnavailable:  http.StatusServiceUnavailable,
	event.CodeUnauthorized: http.StatusUnauthorized,
	event.CodeForbidden:    http.StatusForbidden,
	event.CodeRateLimited:  http.StatusTooManyRequests,
	event.CodeInternal:     http.StatusInternalServerError,
	CodeMalformedJSON:      http.StatusBadRequest,
	CodeMalformedForm:      http.StatusBadRequest,
	CodeUnsupportedMedia:   http.StatusUnsupportedMediaType,
	CodeMethodNotAllowed:   http.StatusMethodNotAllowed,
	CodeClientClosed:       StatusClientClosedRequest,
}

// statusTitle is http.StatusText, plus the one status it does not know.
func statusTitle(status int) string {
	if status == StatusClientClosedRequest {
		return "Client Closed Request"
	}
	return http.StatusText(status)
}

// StatusFor returns the HTTP status for an error code: the single mapping
// every response of this package goes through. Unknown codes are 500.
func StatusFor(code event.Code) int {
	if s, ok := statusByCode[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// problemContentType is RFC 9457's media type.
const problemContentType = "application/problem+json"

// internalDetail is all a client learns about a 5xx that is our fault.
const internalDetail = "The server could not complete the request. It has been logged; retry later or quote the X-Request-Id header when reporting it."

// Problem is the RFC 9457 body of every error response, plus the stable
// code and, for validation failures, FastAPI-style per-field errors so the
// seed's clients that read detail and loc keep making sense.
type Problem struct {
	Type   string         `json:"type"`   // relative URI /problems/<code>
	Title  string         `json:"title"`  // the status text
	Status int            `json:"status"` // the HTTP status, repeated
	Detail string         `json:"detail"` // human-readable, always a string
	Code   event.Code     `json:"code"`   // stable, machine-readable
	Errors []FieldProblem `json:"errors,omitempty"`
}

// FieldProblem locates one invalid input, in FastAPI's shape:
// loc is ["body","type"], ["query","limit"], ["header","Idempotency-Key"].
type FieldProblem struct {
	Loc  []string `json:"loc"`
	Msg  string   `json:"msg"`
	Type string   `json:"type"`
}

// The kinds of field error, named like pydantic's so FastAPI clients
// recognise them.
const (
	kindMissing    = "missing"
	kindStringType = "string_type"
	kindObjectType = "object_type"
	kindValue      = "value_error"
)

// fieldError is a CodeInvalid error located in the request.
type fieldError struct {
	in   string // "body", "query", "header"
	kind string // one of the kind constants
	err  *event.Error
}

func (f *fieldError) Error() string { return f.in + ": " + f.err.Error() }
func (f *fieldError) Unwrap() error { return f.err }

// invalidIn returns a located CodeInvalid error for field.
func invalidIn(in, kind, field, format string, args ...any) *fieldError {
	return &fieldError{in: in, kind: kind, err: event.Invalid(field, format, args...)}
}

// locate puts a CodeInvalid error from the domain or a store into the part
// of the request it came from; other errors pass through unchanged.
func locate(in string, err error) error {
	var e *event.Error
	if errors.As(err, &e) && e.Code == event.CodeInvalid {
		var f *fieldError
		if errors.As(err, &f) {
			return err
		}
		return &fieldError{in: in, kind: kindValue, err: e}
	}
	return err
}

// fieldErrors is several validation failures of one request, reported
// together so a client can fix them in one round trip.
type fieldErrors []*fieldError

func (fs fieldErrors) Error() string {
	msgs := make([]string, len(fs))
	for i, f := range fs {
		msgs[i] = f.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap exposes the first failure, so event.ErrorCode sees CodeInvalid.
func (fs fieldErrors) Unwrap() error { return fs[0] }

// orNil returns fs as an error, or nil when it is empty.
func (fs fieldErrors) orNil() error {
	if len(fs) == 0 {
		return nil
	}
	return fs
}

// problemFor builds the problem document for err. CodeInternal (and any
// error without a known code) gets the generic detail, never err's text.
func problemFor(err error) Problem {
	code := event.ErrorCode(err)
	status := StatusFor(code)
	if _, known := statusByCode[code]; !known {
		code = event.CodeInternal
	}
	p := Problem{
		Type:   "/problems/" + string(code),
		Title:  statusTitle(status),
		Status: status,
		Code:   code,
	}
	var e *event.Error
	switch {
	case code == event.CodeInternal:
		p.Detail = internalDetail
	case errors.As(err, &e) && e.Message != "":
		p.Detail = e.Message
	default:
		p.Detail = p.Title
	}
	if code != event.CodeInvalid {
		return p
	}
	var many fieldErrors
	var one *fieldError
	switch {
	case errors.As(err, &many):
		msgs := make([]string, len(many))
		for i, f := range many {
			p.Errors = append(p.Errors, f.problem())
			msgs[i] = f.err.Message
		}
		p.Detail = strings.Join(msgs, "; ")
	case errors.As(err, &one):
		p.Errors = []FieldProblem{one.problem()}
	case e != nil && e.Field != "":
		p.Errors = []FieldProblem{{Loc: []string{e.Field}, Msg: e.Message, Type: kindValue}}
	}
	return p
}

func (f *fieldError) problem() FieldProblem {
	loc := []string{f.in}
	if f.err.Field != "" {
		loc = append(loc, f.err.Field)
	}
	return FieldProblem{Loc: loc, Msg: f.err.Message, Type: f.kind}
}

// clientGone reports whether err is only the echo of the client leaving:
// net/http cancels a request's context when its connection closes, or
// when the client half-closes it after sending (golang/go#18527), and a
// store or a hashing slot then fails with context.Canceled. That is no
// fault of the server's, so it must not be a 500 (nor an error-level log
// line); a half-closed client still reads the 499.
func clientGone(r *http.Request, err error) bool {
	return errors.Is(r.Context().Err(), context.Canceled) && errors.Is(err, context.Canceled)
}

// writeProblem answers err as problem+json, with the headers its status
// calls for (Retry-After, WWW-Authenticate), and records it for the log.
func writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	if clientGone(r, err) {
		err = &event.Error{Code: CodeClientClosed, Err: err,
			Message: "the client closed the connection before the answer was ready; the request may not have been carried out (retry POST /events with the same Idempotency-Key)"}
	}
	p := problemFor(err)
	info := infoFrom(r.Context())
	info.code = p.Code
	if p.Status >= 500 {
		info.err = err
	}
	h := w.Header()
	var e *event.Error
	switch p.Status {
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		secs := 1
		if errors.As(err, &e) && e.RetryAfterSeconds > 0 {
			secs = e.RetryAfterSeconds
		}
		h.Set("Retry-After", strconv.Itoa(secs))
	case http.StatusUnauthorized:
		// RFC 9110 requires a challenge on every 401.
		if h.Get("WWW-Authenticate") == "" {
			h.Set("WWW-Authenticate", "Bearer")
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p) // a Problem of strings and ints always encodes
	h.Set("Content-Type", problemContentType)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_, _ = w.Write(buf.Bytes())
}

package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error is an error answer of the API, decoded from its RFC 9457
// application/problem+json body. A non-problem body (a gateway's
// {"message": "..."}) still yields an Error: Code is then derived from the
// status, Detail from the message.
//
// Error never carries the API key or a token: the server never echoes them
// and the client never adds them.
type Error struct {
	// Method and Path are the request that failed (no query, no host).
	Method, Path string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the stable, machine-readable code ("not_found",
	// "validation_failed", "idempotency_conflict", ...).
	Code string
	// Type is the problem type URI ("/problems/not_found").
	Type string
	// Title is the status text; Detail the human-readable explanation.
	Title, Detail string
	// Errors locates each invalid field of a 422 validation_failed.
	Errors []FieldError
	// RequestID is the server's X-Request-Id; quote it when reporting.
	RequestID string
	// RetryAfter is the server's Retry-After advice, zero when absent.
	RetryAfter time.Duration
}

// FieldError is one invalid input of a validation failure, in FastAPI's
// shape: Loc is ["body","type"], ["query","limit"], ["header","Idempotency-Key"].
type FieldError struct {
	Loc  []string `json:"loc"`
	Msg  string   `json:"msg"`
	Type string   `json:"type"`
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("triggers: ")
	if e.Method != "" {
		b.WriteString(e.Method + " " + e.Path + ": ")
	}
	fmt.Fprintf(&b, "%d %s", e.StatusCode, e.Code)
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// The error codes the API answers with (the problem's code member).
const (
	CodeValidation       = "validation_failed"
	CodeNotFound         = "not_found"
	CodeConflict         = "idempotency_conflict"
	CodeTooLarge         = "payload_too_large"
	CodeUnavailable      = "unavailable"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeRateLimited      = "rate_limited"
	CodeInternal         = "internal"
	CodeMalformedJSON    = "malformed_json"
	CodeMalformedForm    = "malformed_form"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeMethodNotAllowed = "method_not_allowed"
)

// Sentinels for errors.Is: errors.Is(err, client.ErrNotFound) holds for an
// *Error whose Code is not_found. The Is helpers below say the same thing.
var (
	ErrNotFound     = errors.New("triggers: not found")
	ErrUnauthorized = errors.New("triggers: unauthorized")
	ErrForbidden    = errors.New("triggers: forbidden")
	ErrValidation   = errors.New("triggers: validation failed")
	ErrConflict     = errors.New("triggers: idempotency conflict")
	ErrTooLarge     = errors.New("triggers: payload too large")
	ErrRateLimited  = errors.New("triggers: rate limited")
	ErrUnavailable  = errors.New("triggers: unavailable")
)

var sentinelByCode = map[string]error{
	CodeNotFound:     ErrNotFound,
	CodeUnauthorized: ErrUnauthorized,
	CodeForbidden:    ErrForbidden,
	CodeValidation:   ErrValidation,
	CodeConflict:     ErrConflict,
	CodeTooLarge:     ErrTooLarge,
	CodeRateLimited:  ErrRateLimited,
	CodeUnavailable:  ErrUnavailable,
}

// Is reports whether target is the sentinel for e's code.
func (e *Error) Is(target error) bool {
	s, ok := sentinelByCode[e.Code]
	return ok && s == target
}

// IsNotFound reports whether err is a 404 not_found (an unknown, expired or
// malformed id).
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsUnauthorized reports whether the API key or token was refused.
func IsUnauthorized(err error) bool { return errors.Is(err, ErrUnauthorized) }

// IsForbidden reports whether the API key lacks the scope the call needs.
func IsForbidden(err error) bool { return errors.Is(err, ErrForbidden) }

// IsValidation reports whether the request was invalid (422
// validation_failed); see Error.Errors for the fields.
func IsValidation(err error) bool { return errors.Is(err, ErrValidation) }

// IsConflict reports whether an idempotency key was reused with a
// different event.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// IsTooLarge reports whether the event exceeded the server's size limit.
func IsTooLarge(err error) bool { return errors.Is(err, ErrTooLarge) }

// IsRateLimited reports whether the server asked us to slow down (429) and
// the retry budget could not absorb it.
func IsRateLimited(err error) bool { return errors.Is(err, ErrRateLimited) }

// IsUnavailable reports whether the server was unavailable (503) through the
// whole retry budget.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// codeByStatus fills in Code for answers without a problem body.
var codeByStatus = map[int]string{
	http.StatusBadRequest:            CodeMalformedJSON,
	http.StatusUnauthorized:          CodeUnauthorized,
	http.StatusForbidden:             CodeForbidden,
	http.StatusNotFound:              CodeNotFound,
	http.StatusMethodNotAllowed:      CodeMethodNotAllowed,
	http.StatusRequestEntityTooLarge: CodeTooLarge,
	http.StatusUnsupportedMediaType:  CodeUnsupportedMedia,
	http.StatusUnprocessableEntity:   CodeValidation,
	http.StatusTooManyRequests:       CodeRateLimited,
	http.StatusServiceUnavailable:    CodeUnavailable,
}

// maxDetailLen bounds a Detail taken from a body that is not ours (an HTML
// error page from a proxy), so errors stay one readable line.
const maxDetailLen = 512

// decodeError builds the Error for a non-2xx answer.
func decodeError(method, path string, status int, h http.Header, body []byte, retryAfter time.Duration) *Error {
	e := &Error{
		Method:     method,
		Path:       path,
		StatusCode: status,
		RequestID:  h.Get("X-Request-Id"),
		RetryAfter: retryAfter,
	}
	var p struct {
		Type    string       `json:"type"`
		Title   string       `json:"title"`
		Detail  any          `json:"detail"`
		Code    string       `json:"code"`
		Errors  []FieldError `json:"errors"`
		Message string       `json:"message"` // API Gateway's own answers
	}
	if json.Unmarshal(body, &p) == nil {
		e.Type, e.Title, e.Code, e.Errors = p.Type, p.Title, p.Code, p.Errors
		switch d := p.Detail.(type) {
		case string:
			e.Detail = d
		case nil:
			e.Detail = p.Message
		default: // FastAPI's list of field errors
			b, _ := json.Marshal(d)
			e.Detail = string(b)
		}
	} else if ct := h.Get("Content-Type"); strings.HasPrefix(ct, "text/plain") {
		e.Detail = strings.TrimSpace(string(body))
	}
	if e.Code == "" {
		e.Code = codeByStatus[status]
		if e.Code == "" && status >= 500 {
			e.Code = CodeInternal
		}
	}
	if e.Title == "" {
		e.Title = http.StatusText(status)
	}
	if len(e.Detail) > maxDetailLen {
		e.Detail = e.Detail[:maxDetailLen] + "…"
	}
	return e
}

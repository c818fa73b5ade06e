package event

import (
	"errors"
	"fmt"
)

// Code classifies an error for the edges of the system. Every adapter maps a
// Code to its own vocabulary (an HTTP status, a Lambda response) through one
// table, so a store never needs to know about HTTP.
type Code string

// The error codes. They are stable: clients see them as the `code` member of
// problem+json responses.
const (
	// CodeInvalid means the input failed validation; Error.Field names it.
	CodeInvalid Code = "validation_failed"
	// CodeNotFound means the object does not exist, has expired, or its id
	// is malformed (a malformed id cannot exist, so it is not found).
	CodeNotFound Code = "not_found"
	// CodeConflict means the request contradicts stored state, such as an
	// idempotency key reused with a different body.
	CodeConflict Code = "idempotency_conflict"
	// CodeTooLarge means the object exceeds a size limit of the store.
	CodeTooLarge Code = "payload_too_large"
	// CodeUnavailable means a dependency is throttling or temporarily down;
	// the caller may retry after Error.RetryAfter.
	CodeUnavailable Code = "unavailable"
	// CodeUnauthorized means credentials are missing, malformed, expired,
	// revoked or wrong.
	CodeUnauthorized Code = "unauthorized"
	// CodeForbidden means the credentials are good but lack a scope.
	CodeForbidden Code = "forbidden"
	// CodeRateLimited means the caller must slow down; see RetryAfterSeconds.
	CodeRateLimited Code = "rate_limited"
	// CodeInternal is everything else. Its message is never shown to clients.
	CodeInternal Code = "internal"
)

// Error is the one error type of the domain. Message is safe to show to a
// client; Err, the cause, is for logs only.
type Error struct {
	Code    Code
	Field   string // the offending input field, for CodeInvalid
	Message string // client-safe explanation
	// RetryAfterSeconds tells a client when to retry a CodeUnavailable or
	// CodeRateLimited error; zero means no advice.
	RetryAfterSeconds int
	Err               error // cause, never shown to clients
}

// Error implements error. It includes the cause for logs.
func (e *Error) Error() string {
	msg := string(e.Code) + ": " + e.Message
	if e.Field != "" {
		msg = string(e.Code) + ": " + e.Field + ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a client-safe formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a CodeInvalid error naming the field at fault.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected cause. The client sees only a generic message.
func Internal(op string, err error) *Error {
	return &Error{Code: CodeInternal, Message: "internal error", Err: fmt.Errorf("%s: %w", op, err)}
}

// ErrorCode returns the Code of the first *Error in err's chain, CodeInternal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// NotFound returns the CodeNotFound error for a kind of object and its id.
// An id too long to be real is left out of the message rather than echoed.
func NotFound(kind, id string) *Error {
	if len(id) > 64 {
		return &Error{Code: CodeNotFound, Message: kind + " not found"}
	}
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf("%s %q not found", kind, id)}
}

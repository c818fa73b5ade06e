package client_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/triggershq/triggers/pkg/client"
)

// TestErrorDecoding: problem+json answers of the real server, and the
// bodies gateways and proxies answer with, all become a useful *Error.
func TestErrorDecoding(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        client.Error
		is          error
	}{
		{
			name: "validation problem", status: 422, contentType: "application/problem+json",
			body: `{"type":"/problems/validation_failed","title":"Unprocessable Entity","status":422,"detail":"type is required","code":"validation_failed","errors":[{"loc":["body","type"],"msg":"type is required","type":"missing"}]}`,
			want: client.Error{StatusCode: 422, Code: "validation_failed", Type: "/problems/validation_failed", Title: "Unprocessable Entity", Detail: "type is required",
				Errors: []client.FieldError{{Loc: []string{"body", "type"}, Msg: "type is required", Type: "missing"}}},
			is: client.ErrValidation,
		},
		{
			name: "conflict", status: 422, contentType: "application/problem+json",
			body: `{"type":"/problems/idempotency_conflict","title":"Unprocessable Entity","status":422,"detail":"key reused","code":"idempotency_conflict"}`,
			want: client.Error{StatusCode: 422, Code: "idempotency_conflict", Type: "/problems/idempotency_conflict", Title: "Unprocessable Entity", Detail: "key reused"},
			is:   client.ErrConflict,
		},
		{
			name: "API Gateway's own 403", status: 403, contentType: "application/json",
			body: `{"message":"Forbidden"}`,
			want: client.Error{StatusCode: 403, Code: "forbidden", Title: "Forbidden", Detail: "Forbidden"},
			is:   client.ErrForbidden,
		},
		{
			name: "FastAPI detail list", status: 422, contentType: "application/json",
			body: `{"detail":[{"loc":["body","type"],"msg":"field required"}]}`,
			want: client.Error{StatusCode: 422, Code: "validation_failed", Title: "Unprocessable Entity", Detail: `[{"loc":["body","type"],"msg":"field required"}]`},
			is:   client.ErrValidation,
		},
		{
			name: "a proxy's text", status: 413, contentType: "text/plain; charset=utf-8",
			body: "request entity too large\n",
			want: client.Error{StatusCode: 413, Code: "payload_too_large", Title: "Request Entity Too Large", Detail: "request entity too large"},
			is:   client.ErrTooLarge,
		},
		{
			name: "an HTML page", status: 404, contentType: "text/html",
			body: "<html>nope</html>",
			want: client.Error{StatusCode: 404, Code: "not_found", Title: "Not Found"},
			is:   client.ErrNotFound,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				w.Header().Set("X-Request-Id", "req-1")
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			})
			c := newTestClient(t, srv.URL, newFakeClock())
			_, err := c.Get(t.Context(), someID)
			var got *client.Error
			if !errors.As(err, &got) {
				t.Fatalf("err: got %T %v, want *client.Error", err, err)
			}
			want := tc.want
			want.Method, want.Path, want.RequestID = "GET", "/events/"+someID, "req-1"
			if got.Error() != want.Error() || got.Type != want.Type || got.Title != want.Title || len(got.Errors) != len(want.Errors) {
				t.Errorf("got %#v, want %#v", got, &want)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(err, %v) is false for %v", tc.is, err)
			}
			if strings.Contains(err.Error(), srv.URL) {
				t.Errorf("error names the host: %v", err)
			}
		})
	}
}

func TestIsHelpers(t *testing.T) {
	t.Parallel()
	helpers := map[string]func(error) bool{
		"not_found": client.IsNotFound, "unauthorized": client.IsUnauthorized, "forbidden": client.IsForbidden,
		"validation_failed": client.IsValidation, "idempotency_conflict": client.IsConflict,
		"payload_too_large": client.IsTooLarge, "rate_limited": client.IsRateLimited, "unavailable": client.IsUnavailable,
	}
	for code, is := range helpers {
		err := error(&client.Error{StatusCode: 400, Code: code})
		wrapped := errors.Join(errors.New("context"), err)
		if !is(err) || !is(wrapped) {
			t.Errorf("%s: helper does not recognise its own code", code)
		}
		for other, isOther := range helpers {
			if other != code && isOther(err) {
				t.Errorf("%s: recognised by the %s helper too", code, other)
			}
		}
	}
	if client.IsNotFound(errors.New("not_found")) || client.IsNotFound(nil) {
		t.Error("IsNotFound accepts something that is not an *Error")
	}
}

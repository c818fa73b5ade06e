package httpapi_test

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// spyTB records failures instead of failing, so the contract checker can
// be shown to reject what it must reject.
type spyTB struct {
	testing.TB
	mu       sync.Mutex
	failures []string
}

func (s *spyTB) Helper() {}

func (s *spyTB) Errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, fmt.Sprintf(format, args...))
}

func (s *spyTB) Fatalf(format string, args ...any) {
	s.Errorf(format, args...)
	runtime.Goexit()
}

func (s *spyTB) Fatal(args ...any) {
	s.Errorf("%s", fmt.Sprint(args...))
	runtime.Goexit()
}

// run calls fn with the spy on its own goroutine (Fatalf ends it) and
// returns the failures fn reported.
func (s *spyTB) run(fn func(tb *spyTB)) []string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(s)
	}()
	<-done
	return s.failures
}

// The checker passes a conforming response and rejects each kind of
// mismatch: without this, a checker that accepted everything would make
// the contract test pass vacuously.
func TestOpenAPICheckerRejectsMismatches(t *testing.T) {
	t.Parallel()
	doc := loadAPIDoc(t)
	const eventPtr = "/paths/~1events~1{id}/get/responses/200"
	goodEvent := `{"id":"01937a6e-5c2f-7a3b-9c1d-2e3f4a5b6c7d","type":"a","source":"b","payload":{},"status":"pending","created_at":"2026-11-28T10:00:00Z","updated_at":"2026-11-28T10:00:00.5Z"}`
	h := func(kv ...string) http.Header {
		out := hdr("X-Request-Id", "r1")
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	problem := func(status int, code string) string {
		return fmt.Sprintf(`{"type":"/problems/%s","title":"t","status":%d,"detail":"d","code":%q}`, code, status, code)
	}
	cases := []struct {
		name  string
		ptr   string
		res   response
		wants string // "" means the response must pass
	}{
		{"conforming event", eventPtr, response{200, h("Content-Type", "application/json"), []byte(goodEvent)}, ""},
		{"conforming 401", "/components/responses/Unauthorized", response{401, h("Content-Type", "application/problem+json", "WWW-Authenticate", "Bearer"), []byte(problem(401, "unauthorized"))}, ""},
		{"undocumented member", eventPtr, response{200, h("Content-Type", "application/json"), []byte(strings.Replace(goodEvent, `"id"`, `"secret":"x","id"`, 1))}, "body does not match"},
		{"missing member", eventPtr, response{200, h("Content-Type", "application/json"), []byte(strings.Replace(goodEvent, `"source":"b",`, "", 1))}, "body does not match"},
		{"bad timestamp", eventPtr, response{200, h("Content-Type", "application/json"), []byte(strings.Replace(goodEvent, "2026-11-28T10:00:00Z", "yesterday", 1))}, "body does not match"},
		{"bad status value", eventPtr, response{200, h("Content-Type", "application/json"), []byte(strings.Replace(goodEvent, `"pending"`, `"lost"`, 1))}, "body does not match"},
		{"missing required header", eventPtr, response{200, hdr("Content-Type", "application/json"), []byte(goodEvent)}, "X-Request-Id is documented as required"},
		{"undocumented media type", eventPtr, response{200, h("Content-Type", "text/plain"), []byte(goodEvent)}, "is not documented"},
		{"not JSON", eventPtr, response{200, h("Content-Type", "application/json"), []byte("{")}, "not JSON"},
		{"header breaks its schema", "/components/responses/Unavailable", response{503, h("Content-Type", "application/problem+json", "Retry-After", "soon"), []byte(problem(503, "unavailable"))}, "header Retry-After"},
		{"missing challenge", "/components/responses/Unauthorized", response{401, h("Content-Type", "application/problem+json"), []byte(problem(401, "unauthorized"))}, "WWW-Authenticate is documented as required"},
		{"wrong code for status", "/components/responses/NotFound", response{404, h("Content-Type", "application/problem+json"), []byte(problem(404, "forbidden"))}, "body does not match"},
		{"422 without errors", "/components/responses/ValidationFailed", response{422, h("Content-Type", "application/problem+json"), []byte(problem(422, "validation_failed"))}, "body does not match"},
		{"body where none is documented", "/components/responses/NotModified", response{304, h("ETag", `"ab"`, "Cache-Control", "public, max-age=300"), []byte("x")}, "documents no body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			spy := &spyTB{TB: t}
			failures := spy.run(func(tb *spyTB) { doc.checkResponse(tb, c.ptr, c.res) })
			got := strings.Join(failures, "\n")
			switch {
			case c.wants == "" && len(failures) > 0:
				t.Errorf("a conforming response was rejected: %s", got)
			case c.wants != "" && !strings.Contains(got, c.wants):
				t.Errorf("failures: got %q, want one containing %q", got, c.wants)
			}
		})
	}

	t.Run("request body the schema forbids", func(t *testing.T) {
		t.Parallel()
		spy := &spyTB{TB: t}
		op := doc.operations()["POST /events"]
		failures := spy.run(func(tb *spyTB) {
			doc.checkRequest(tb, op, req{header: jsonCT, body: `{"type":"a\u0001","source":"s","payload":{}}`})
		})
		if len(failures) == 0 || !strings.Contains(failures[0], "breaks the documented schema") {
			t.Errorf("failures: got %q, want the schema violation", failures)
		}
	})
}

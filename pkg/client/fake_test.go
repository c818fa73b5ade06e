package client_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/client"
)

// fakeAPI is a scripted stand-in for the server, for the unit tests that
// need answers the real API never gives on demand (a 503 on the third
// request, a 401 for a token it issued). POST /token issues "tok-1",
// "tok-2", ...; every other request is recorded and answered by handle.
type fakeAPI struct {
	t *testing.T

	mu         sync.Mutex
	tokenCalls int
	expiresIn  string // raw JSON of expires_in; default "3600"
	requests   []seenRequest
	// tokenOK says whether a bearer token is still accepted; nil accepts all.
	tokenOK func(token string) bool
	// gatewayDenies answers a refused token as API Gateway does when the
	// Lambda authorizer denies it (403 {"message":"Forbidden"}), not with
	// our own 401 problem.
	gatewayDenies bool
	// handle answers request n (1-based, /token excluded).
	handle func(n int, w http.ResponseWriter, r *http.Request)
	// tokenHandle, when set, answers POST /token instead.
	tokenHandle func(n int, w http.ResponseWriter, r *http.Request)
}

type seenRequest struct {
	method, path, token, idempotencyKey string
	body                                []byte
}

func newFake(t *testing.T, handle func(n int, w http.ResponseWriter, r *http.Request)) (*fakeAPI, *httptest.Server) {
	t.Helper()
	f := &fakeAPI{t: t, handle: handle, expiresIn: "3600"}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if strings.HasSuffix(r.URL.Path, "/token") {
		f.mu.Lock()
		f.tokenCalls++
		n, handle, exp := f.tokenCalls, f.tokenHandle, f.expiresIn
		f.mu.Unlock()
		if handle != nil {
			handle(n, w, r)
			return
		}
		if !strings.Contains(string(body), "password=") {
			http.Error(w, "no password", http.StatusUnprocessableEntity)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"bearer","expires_in":%s}`, n, exp)
		return
	}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	f.requests = append(f.requests, seenRequest{method: r.Method, path: r.URL.Path, token: token, idempotencyKey: r.Header.Get("Idempotency-Key"), body: body})
	n, ok, gateway := len(f.requests), f.tokenOK, f.gatewayDenies
	f.mu.Unlock()
	if ok != nil && !ok(token) {
		if gateway {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"message":"Forbidden"}`))
			return
		}
		problem(w, http.StatusUnauthorized, "unauthorized", "token expired")
		return
	}
	f.handle(n, w, r)
}

func (f *fakeAPI) tokens() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenCalls
}

func (f *fakeAPI) seen() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.requests...)
}

// problem writes a problem+json answer like the real server's.
func problem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Request-Id", "req-"+code)
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"type":"/problems/%s","title":%q,"status":%d,"detail":%q,"code":%q}`, code, http.StatusText(status), status, detail, code)
}

// created answers POST /events like the real server.
func created(w http.ResponseWriter, id string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"id":%q,"status":"pending","timestamp":"2026-11-28T10:00:00Z"}`, id)
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

// fakeClock is a settable clock; sleeping on it advances it, so the retry
// budget is exercised without waiting.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// newTestClient returns a client on the fake clock with a seeded jitter
// source.
func newTestClient(t *testing.T, url string, clk *fakeClock, opts ...client.Option) *client.Client {
	t.Helper()
	base := []client.Option{client.WithClock(clk.Now), client.WithSleep(clk.Sleep), client.WithRand(seeded())}
	c, err := client.New(url, "trg_testkeyid_secretsecretsecret", append(base, opts...)...)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	return c
}

package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/boltstore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/httpapi"
)

// clock is a settable clock shared by the API, the store and auth.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncBuffer collects log output from concurrent requests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is one API on a real bbolt store in a temp dir, with real auth.
type env struct {
	t       testing.TB
	api     *httpapi.API
	handler http.Handler
	store   event.Store
	clock   *clock
	logs    *syncBuffer
	auth    *authFixture
	// allow5xx is set by the few tests that provoke a server fault on
	// purpose; everywhere else any 5xx fails the test.
	allow5xx bool
}

type envOption func(*httpapi.Config)

// newEnv starts an API over a fresh boltstore; store, if non-nil, wraps
// the real store (for fault injection).
func newEnv(t testing.TB, wrap func(event.Store) event.Store, opts ...envOption) *env {
	t.Helper()
	c := newClock()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	bs, err := boltstore.Open(filepath.Join(t.TempDir(), "triggers.db"), boltstore.Options{Now: c.Now, Logger: logger})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = bs.Close() })
	var store event.Store = bs
	if wrap != nil {
		store = wrap(bs)
	}
	af := newAuthFixture(t, c)
	cfg := httpapi.Config{
		Store:   store,
		Auth:    af.authenticator,
		Limiter: af.limiter,
		Logger:  logger,
		Now:     c.Now,
		IDs:     new(event.IDs),
		Version: "test",
	}
	for _, o := range opts {
		o(&cfg)
	}
	api, err := httpapi.New(cfg)
	if err != nil {
		t.Fatalf("httpapi.New: %v", err)
	}
	return &env{t: t, api: api, handler: api.Handler(), store: store, clock: c, logs: logs, auth: af}
}

// response is a finished exchange.
type response struct {
	Code   int
	Header http.Header
	Body   []byte
}

// req describes a request for env.do.
type req struct {
	method string
	target string
	body   string
	header http.Header
	// token, when set, goes in Authorization as a bearer token.
	token string
	// remote is RemoteAddr; default 192.0.2.1:1234.
	remote string
	// chunked sends the body with unknown length.
	chunked bool
	ctx     context.Context
}

// do runs r through the handler in-process and fails the test on any 5xx
// unless allow5xx is set.
func (e *env) do(r req) response {
	e.t.Helper()
	return e.doWith(e.handler, r)
}

func (e *env) doWith(h http.Handler, r req) response {
	e.t.Helper()
	hr := newRequest(e.t, r)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, hr)
	res := response{Code: rec.Code, Header: rec.Result().Header, Body: rec.Body.Bytes()}
	if res.Code >= 500 && !e.allow5xx {
		e.t.Errorf("%s %.80s: got status %d, want no 5xx; body %s", r.method, r.target, res.Code, res.Body)
	}
	return res
}

func newRequest(t testing.TB, r req) *http.Request {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, "http://triggers.test/", body)
	if u, err := url.ParseRequestURI(r.target); err == nil {
		hr.URL.Path, hr.URL.RawPath, hr.URL.RawQuery = u.Path, u.RawPath, u.RawQuery
	} else { // a target net/http would refuse; the handler must cope anyway
		hr.URL.Path, hr.URL.RawQuery, _ = strings.Cut(r.target, "?")
		hr.URL.RawPath = ""
	}
	hr.RequestURI = r.target
	if r.chunked {
		hr.ContentLength = -1
		hr.Body = io.NopCloser(strings.NewReader(r.body))
	}
	for k, vs := range r.header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	hr.RemoteAddr = "192.0.2.1:1234"
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	if r.ctx != nil {
		hr = hr.WithContext(r.ctx)
	}
	return hr
}

// hdr builds a header from pairs.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

var jsonCT = hdr("Content-Type", "application/json")

// problem decodes and checks the problem+json body of an error response.
func (res response) problem(t testing.TB) httpapi.Problem {
	t.Helper()
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if mt != "application/problem+json" {
		t.Fatalf("Content-Type: got %q, want application/problem+json (status %d, body %s)", res.Header.Get("Content-Type"), res.Code, res.Body)
	}
	var p httpapi.Problem
	dec := json.NewDecoder(bytes.NewReader(res.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("problem body %s: %v", res.Body, err)
	}
	if p.Status != res.Code {
		t.Errorf("problem status: got %d, want %d", p.Status, res.Code)
	}
	if p.Type != "/problems/"+string(p.Code) {
		t.Errorf("problem type: got %q, want /problems/%s", p.Type, p.Code)
	}
	if p.Title == "" || p.Detail == "" {
		t.Errorf("problem title/detail empty: %+v", p)
	}
	return p
}

// json decodes a success body, checking the content type.
func (res response) json(t testing.TB, v any) {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type: got %q, want application/json (status %d, body %s)", ct, res.Code, res.Body)
	}
	if err := json.Unmarshal(res.Body, v); err != nil {
		t.Fatalf("decode %s: %v", res.Body, err)
	}
}

// wantStatus fails unless the response has the status.
func (res response) wantStatus(t testing.TB, want int) {
	t.Helper()
	if res.Code != want {
		t.Fatalf("status: got %d, want %d; body %s", res.Code, want, res.Body)
	}
}

// created is the POST /events answer.
type created struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Timestamp string `json:"timestamp"`
}

// eventJSON is an event as the API returns it, payload kept raw.
type eventJSON struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Source    string          `json:"source"`
	Payload   json.RawMessage `json:"payload"`
	Status    string          `json:"status"`
	CreatedAt string          `json:"created_at"`
	UpdatedAt string          `json:"updated_at"`
}

// createEvent posts a valid event and returns its id.
func (e *env) createEvent(token, typ, source, payload string) string {
	e.t.Helper()
	res := e.do(req{method: "POST", target: "/events", token: token, header: jsonCT,
		body: `{"type":` + quote(typ) + `,"source":` + quote(source) + `,"payload":` + payload + `}`})
	res.wantStatus(e.t, http.StatusCreated)
	var c created
	res.json(e.t, &c)
	return c.ID
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// principalCtx is a context carrying a principal, as the API Gateway
// adapter builds it from the Lambda authorizer's verdict.
func principalCtx(scopes ...auth.Scope) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Subject: "ctxkey", KeyID: "ctxkey", KeyName: "from-authorizer", Scopes: scopes})
}

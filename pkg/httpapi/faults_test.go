package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/httpapi"
)

// Store faults are the server's problem: 503 with Retry-After when the
// store says try later, 500 with a generic detail otherwise, the cause only
// in the log; a panic is recovered, logged and answered 500.
func TestStoreFaults(t *testing.T) {
	t.Parallel()
	const secretCause = "disk on fire at /var/lib/secret-path"
	unavailable := func() error {
		return &event.Error{Code: event.CodeUnavailable, Message: "throttled", RetryAfterSeconds: 7}
	}
	internal := func() error { return event.Internal("put", errors.New(secretCause)) }
	plain := func() error { return errors.New(secretCause) }

	cases := []struct {
		name       string
		fs         *faultStore
		r          req
		status     int
		retryAfter string
	}{
		{"put unavailable", &faultStore{put: unavailable}, req{method: "POST", target: "/events", header: jsonCT, body: validBody}, 503, "7"},
		{"put internal", &faultStore{put: internal}, req{method: "POST", target: "/events", header: jsonCT, body: validBody}, 500, ""},
		{"list plain error", &faultStore{list: plain}, req{method: "GET", target: "/inbox"}, 500, ""},
		{"get internal", &faultStore{get: internal}, req{method: "GET", target: "/events/0190f3c2-0000-7000-8000-000000000000"}, 500, ""},
		{"ack unavailable", &faultStore{ack: unavailable}, req{method: "POST", target: "/inbox/0190f3c2-0000-7000-8000-000000000000/ack"}, 503, "7"},
		{"health ping fails", &faultStore{ping: plain}, req{method: "GET", target: "/health"}, 503, "5"},
		{"panic", &faultStore{panic: true}, req{method: "GET", target: "/inbox"}, 500, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(s event.Store) event.Store { c.fs.Store = s; return c.fs })
			e.allow5xx = true
			c.r.token = e.token(keyFull)
			res := e.do(c.r)
			res.wantStatus(t, c.status)
			p := res.problem(t)
			if got := res.Header.Get("Retry-After"); got != c.retryAfter {
				t.Errorf("Retry-After: got %q, want %q", got, c.retryAfter)
			}
			if strings.Contains(string(res.Body), "fire") || strings.Contains(string(res.Body), "panic") {
				t.Errorf("response leaks the cause: %s", res.Body)
			}
			if c.status == 500 {
				if p.Code != event.CodeInternal {
					t.Errorf("code: got %q, want internal", p.Code)
				}
				cause := secretCause
				if c.fs.panic {
					cause = "injected fault"
				}
				if !strings.Contains(e.logs.String(), cause) {
					t.Errorf("log lacks the cause %q:\n%s", cause, e.logs.String())
				}
				if !strings.Contains(e.logs.String(), res.Header.Get("X-Request-Id")) {
					t.Errorf("log lacks the request id")
				}
			}
		})
	}
}

// Behind the Lambda authorizer the principal arrives in the context and
// there may be no Authenticator; scopes are still checked here.
func TestPrincipalFromContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, func(c *httpapi.Config) { c.Auth = nil; c.Limiter = nil })
	res := e.do(req{method: "POST", target: "/events", header: jsonCT, body: validBody, ctx: principalCtx("events:write")})
	res.wantStatus(t, http.StatusCreated)
	res = e.do(req{method: "GET", target: "/inbox", ctx: principalCtx("events:write")})
	res.wantStatus(t, http.StatusForbidden)
	if p := res.problem(t); !strings.Contains(p.Detail, "inbox:read") {
		t.Errorf("403 detail %q does not name the scope", p.Detail)
	}
	res = e.do(req{method: "GET", target: "/inbox", token: e.token(keyFull)}) // no Authenticator to check it
	res.wantStatus(t, http.StatusUnauthorized)
	res.problem(t)
	if !strings.Contains(e.logs.String(), `"key_id":"ctxkey"`) {
		t.Errorf("access log lacks the context principal's key id:\n%s", e.logs.String())
	}

	// POST /token without an Authenticator is a wiring bug, not bad input.
	e.allow5xx = true
	res = e.do(req{method: "POST", target: "/token", header: jsonCT, body: `{"api_key":"x"}`})
	res.wantStatus(t, http.StatusInternalServerError)
}

func TestHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	res := e.do(req{method: "GET", target: "/health"})
	res.wantStatus(t, http.StatusOK)
	var h map[string]string
	res.json(t, &h)
	if h["status"] != "ok" || h["store"] != "ok" || h["version"] != "test" {
		t.Errorf("health: got %v", h)
	}
	e.do(req{method: "HEAD", target: "/health"}).wantStatus(t, http.StatusOK)

	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	e.allow5xx = true
	res = e.do(req{method: "GET", target: "/health"})
	res.wantStatus(t, http.StatusServiceUnavailable)
	if p := res.problem(t); p.Code != event.CodeUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("health with a closed store: got %+v, Retry-After %q", p, res.Header.Get("Retry-After"))
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	if _, err := httpapi.New(httpapi.Config{}); err == nil {
		t.Error("New without a Store: got nil error")
	}
	e := newEnv(t, nil)
	if _, err := httpapi.New(httpapi.Config{Store: e.store, MaxBodyBytes: -1}); err == nil {
		t.Error("New with a negative MaxBodyBytes: got nil error")
	}
}

// A smaller MaxBodyBytes applies, and a Content-Length over it is refused
// without reading the body.
func TestMaxBodyBytes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, func(c *httpapi.Config) { c.MaxBodyBytes = 100 })
	e.do(req{method: "POST", target: "/events", token: e.token(keyFull), header: jsonCT, body: validBody}).wantStatus(t, http.StatusCreated)

	r := newRequest(t, req{method: "POST", target: "/events", token: e.token(keyFull), header: jsonCT})
	counter := &countingReader{}
	r.Body, r.ContentLength = counter, 1<<30
	rec := newRecorder()
	e.handler.ServeHTTP(rec, r)
	if rec.Code != http.StatusRequestEntityTooLarge || counter.n != 0 {
		t.Errorf("1 GiB Content-Length: got status %d after reading %d bytes, want 413 after none", rec.Code, counter.n)
	}
}

// A client that goes away (or half-closes its connection after sending,
// which net/http also reports by cancelling the request's context) makes
// the store call fail with context.Canceled. That is not the server's
// fault: 499 problem+json, logged at info with its code, never a 500 or an
// error line. The red team's half-closed raw requests got 500s here.
func TestClientGoneIsNot5xx(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.token(keyFull)
	id := e.createEvent(tok, "gone.test", "tests", `{}`)
	sub := e.subscribe(t, hookURL, "")
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []req{
		{method: "GET", target: "/events/" + id},
		{method: "GET", target: "/inbox"},
		{method: "POST", target: "/events", header: jsonCT, body: validBody},
		{method: "POST", target: "/inbox/" + id + "/ack"},
		{method: "GET", target: "/health"},
		{method: "GET", target: "/subscriptions"},
		{method: "GET", target: "/subscriptions/" + sub.ID},
		{method: "GET", target: "/subscriptions/" + sub.ID + "/deliveries"},
		{method: "DELETE", target: "/subscriptions/" + sub.ID},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.target, func(t *testing.T) {
			c.token, c.ctx = tok, gone
			res := e.do(c) // fails on any 5xx
			res.wantStatus(t, httpapi.StatusClientClosedRequest)
			if p := res.problem(t); p.Code != httpapi.CodeClientClosed || p.Title != "Client Closed Request" {
				t.Errorf("got code %q title %q, want client_closed_request, Client Closed Request", p.Code, p.Title)
			}
		})
	}
	logs := e.logs.String()
	if strings.Contains(logs, `"level":"ERROR"`) || strings.Contains(logs, `"code":"internal"`) {
		t.Errorf("a client leaving was logged as a server error:\n%s", logs)
	}
	if !strings.Contains(logs, `"status":499`) {
		t.Errorf("access log lacks the 499s:\n%s", logs)
	}
	// The requests were refused, not half done: the event is still
	// pending and the subscription still there.
	if got := e.do(req{method: "GET", target: "/events/" + id, token: tok}); !strings.Contains(string(got.Body), `"status":"pending"`) {
		t.Errorf("after a cancelled ack: got %s, want the event still pending", got.Body)
	}
	e.do(req{method: "GET", target: "/subscriptions/" + sub.ID, token: tok}).wantStatus(t, http.StatusOK)
}

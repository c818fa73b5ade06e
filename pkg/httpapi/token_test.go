package httpapi_test

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

// POST /token accepts the seed's form and JSON, and the tokens it issues
// carry the key's scopes.
func TestTokenForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	key := e.auth.plain[keyWrite]
	cases := []struct {
		name, contentType, body string
	}{
		{"form", "application/x-www-form-urlencoded", url.Values{"username": {"api"}, "password": {key}}.Encode()},
		{"form with grant_type and charset", "application/x-www-form-urlencoded; charset=utf-8", url.Values{"grant_type": {"password"}, "username": {"anything"}, "password": {key}, "scope": {"x"}}.Encode()},
		{"json", "application/json", `{"api_key":` + quote(key) + `}`},
		{"json with extra members", "application/json; charset=utf-8", `{"api_key":` + quote(key) + `,"client":"zapier"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := e.do(req{method: "POST", target: "/token", header: hdr("Content-Type", c.contentType), body: c.body})
			res.wantStatus(t, http.StatusOK)
			var tok struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
			}
			res.json(t, &tok)
			if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Pragma") != "no-cache" {
				t.Errorf("token response caching headers: %v", res.Header)
			}
			// The token works for its scope and no other.
			e.do(req{method: "POST", target: "/events", token: tok.AccessToken, header: jsonCT, body: validBody}).wantStatus(t, http.StatusCreated)
			e.do(req{method: "GET", target: "/inbox", token: tok.AccessToken}).wantStatus(t, http.StatusForbidden)
		})
	}
}

// Failed attempts from one address are limited before any hashing: after
// MaxFailures (3 in the fixture), even the right key gets 429 with
// Retry-After, other addresses are unaffected, and the window reopens.
func TestTokenAttemptLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	attempt := func(remote, key string) response {
		return e.do(req{method: "POST", target: "/token", remote: remote,
			header: hdr("Content-Type", "application/x-www-form-urlencoded"), body: url.Values{"password": {key}}.Encode()})
	}
	const attacker = "192.0.2.66:5555"
	for i := range 3 {
		res := attempt(attacker, "guess-"+strconv.Itoa(i))
		res.wantStatus(t, http.StatusUnauthorized)
	}
	res := attempt("192.0.2.66:6666", e.auth.plain[keyFull]) // same host, other port
	res.wantStatus(t, http.StatusTooManyRequests)
	if p := res.problem(t); p.Code != event.CodeRateLimited {
		t.Errorf("code: got %q, want rate_limited", p.Code)
	}
	retry, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > 60 {
		t.Errorf("Retry-After: got %q, want 1..60 seconds", res.Header.Get("Retry-After"))
	}
	attempt("[2001:db8::1]:443", e.auth.plain[keyFull]).wantStatus(t, http.StatusOK)

	e.clock.Advance(time.Duration(retry) * time.Second)
	attempt(attacker, e.auth.plain[keyFull]).wantStatus(t, http.StatusOK)
}

func TestRetryAfterRoundsUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, func(c *httpapiConfig) { c.Limiter = fixedLimiter{wait: 1500 * time.Millisecond} })
	res := e.do(req{method: "POST", target: "/token", header: hdr("Content-Type", "application/json"), body: `{"api_key":"x"}`})
	res.wantStatus(t, http.StatusTooManyRequests)
	if got := res.Header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After for 1.5s: got %q, want 2", got)
	}
}

// A limiter that cannot be read fails closed: 503, and no hashing.
func TestTokenLimiterDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, func(c *httpapiConfig) { c.Limiter = fixedLimiter{err: errors.New("limiter table gone")} })
	e.allow5xx = true
	res := e.do(req{method: "POST", target: "/token", header: jsonCT, body: `{"api_key":` + quote(e.auth.plain[keyFull]) + `}`})
	res.wantStatus(t, http.StatusServiceUnavailable)
	if p := res.problem(t); p.Code != event.CodeUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("got %+v, Retry-After %q; want unavailable with Retry-After", p, res.Header.Get("Retry-After"))
	}
	if !strings.Contains(e.logs.String(), "limiter table gone") {
		t.Error("the limiter's failure is not logged")
	}
}

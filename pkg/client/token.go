package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tokenSource fetches a bearer token from POST /token when first needed,
// keeps it, and fetches the next one shortly before it expires. Concurrent
// callers that need a new token share one fetch.
type tokenSource struct {
	c *Client

	mu        sync.Mutex
	token     string    // "" when none is held
	expires   time.Time // zero: unknown (valid until the server refuses it)
	refreshAt time.Time // zero: never refresh proactively
	call      *tokenCall
}

// tokenCall is one fetch in flight; done closes when it ends.
type tokenCall struct {
	done  chan struct{}
	token string
	err   error
}

// get returns a token that should still be valid.
func (s *tokenSource) get(ctx context.Context) (string, error) {
	s.mu.Lock()
	now := s.c.now()
	if s.token != "" && (s.refreshAt.IsZero() || now.Before(s.refreshAt)) {
		t := s.token
		s.mu.Unlock()
		return t, nil
	}
	// Still usable if the refresh fails for a passing reason.
	stale := ""
	if s.token != "" && (s.expires.IsZero() || now.Before(s.expires)) {
		stale = s.token
	}
	call := s.startLocked(ctx)
	s.mu.Unlock()

	select {
	case <-call.done:
	case <-ctx.Done():
		return "", fmt.Errorf("triggers: POST /token: %w", ctx.Err())
	}
	if call.err != nil {
		if stale != "" && !IsUnauthorized(call.err) && !IsForbidden(call.err) {
			s.c.log.DebugContext(ctx, "triggers: token refresh failed; using the current token until it expires", "error", call.err.Error())
			return stale, nil
		}
		return "", call.err
	}
	return call.token, nil
}

// invalidate forgets token after the server refused it, unless another
// caller has already replaced it.
func (s *tokenSource) invalidate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == token {
		s.token, s.expires, s.refreshAt = "", time.Time{}, time.Time{}
	}
}

// startLocked joins the fetch in flight or starts one. The fetch runs
// without the caller's cancellation, so one caller giving up does not fail
// the others waiting on it; the retry budget bounds it instead.
func (s *tokenSource) startLocked(ctx context.Context) *tokenCall {
	if s.call != nil {
		return s.call
	}
	call := &tokenCall{done: make(chan struct{})}
	s.call = call
	go func() {
		start := s.c.now()
		tok, ttl, err := s.fetch(context.WithoutCancel(ctx))
		s.mu.Lock()
		if err == nil {
			s.token = tok
			s.expires, s.refreshAt = time.Time{}, time.Time{}
			if ttl > 0 {
				s.expires = start.Add(ttl)
				s.refreshAt = s.expires.Add(-refreshMargin(ttl))
			}
		}
		s.call = nil
		s.mu.Unlock()
		call.token, call.err = tok, err
		close(call.done)
	}()
	return call
}

// refreshMargin is how long before its expiry a token is replaced: enough
// to absorb clock skew and the server's whole-second exp claim, never more
// than half the lifetime.
func refreshMargin(ttl time.Duration) time.Duration {
	m := min(max(ttl/10, 2*time.Second), 5*time.Minute)
	return min(m, ttl/2)
}

// tokenResponse accepts expires_in as a number or a string: our server
// sends a string for the seed's Go client, RFC 6749 says number.
type tokenResponse struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
}

// fetch exchanges the API key for a token with the OAuth2 password grant
// form the seed's clients use.
func (s *tokenSource) fetch(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{"grant_type": {"password"}, "username": {"api"}, "password": {s.c.apiKey}}
	resp, err := s.c.do(ctx, request{
		method:      http.MethodPost,
		path:        "/token",
		body:        []byte(form.Encode()),
		contentType: "application/x-www-form-urlencoded",
		idempotent:  true, // a second token is harmless
	})
	if err != nil {
		return "", 0, err
	}
	var tr tokenResponse
	if err := json.Unmarshal(resp.body, &tr); err != nil || tr.AccessToken == "" {
		return "", 0, errors.New("triggers: POST /token: the answer holds no access_token")
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return "", 0, fmt.Errorf("triggers: POST /token: token_type %q is not bearer", tr.TokenType)
	}
	secs, _ := strconv.ParseInt(string(bytes.Trim(tr.ExpiresIn, `"`)), 10, 64)
	if secs < 0 {
		secs = 0
	}
	return tr.AccessToken, time.Duration(min(secs, int64(365*24*time.Hour/time.Second))) * time.Second, nil
}

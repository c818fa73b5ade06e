package client_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/client"
)

func okInbox(n int, w http.ResponseWriter, r *http.Request) { w.Write([]byte(`[]`)) }

// TestTokenIsLazyAndShared: New does no I/O; the first calls, however many
// at once, share one token fetch; later calls reuse the token.
func TestTokenIsLazyAndShared(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t, okInbox)
	release := make(chan struct{})
	f.tokenHandle = func(n int, w http.ResponseWriter, r *http.Request) {
		<-release // hold the fetch until every caller waits on it
		w.Write([]byte(`{"access_token":"tok-shared","token_type":"bearer","expires_in":"3600"}`))
	}
	c := newTestClient(t, srv.URL, newFakeClock())
	if n := f.tokens(); n != 0 {
		t.Fatalf("New fetched %d tokens, want 0", n)
	}
	const callers = 32
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := c.Inbox(t.Context(), client.InboxQuery{})
			errs <- err
		})
	}
	// Callers that arrive while the fetch is held join it; any that arrive
	// after it finished reuse its token. Either way: one fetch.
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Inbox(t.Context(), client.InboxQuery{}); err != nil {
		t.Fatal(err)
	}
	if n := f.tokens(); n != 1 {
		t.Errorf("token fetches: got %d, want 1", n)
	}
	for _, r := range f.seen() {
		if r.token != "tok-shared" {
			t.Errorf("request used token %q, want tok-shared", r.token)
		}
	}
}

// TestTokenRefreshedBeforeExpiry: near its expires_in, the token is
// replaced before the server has to refuse it.
func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	t.Parallel()
	for _, expiresIn := range []string{`"600"`, `600`} { // our server's string, RFC 6749's number
		t.Run(expiresIn, func(t *testing.T) {
			t.Parallel()
			f, srv := newFake(t, okInbox)
			f.expiresIn = expiresIn
			clk := newFakeClock()
			c := newTestClient(t, srv.URL, clk)
			call := func() {
				t.Helper()
				if _, err := c.Inbox(t.Context(), client.InboxQuery{}); err != nil {
					t.Fatal(err)
				}
			}
			call()
			clk.Advance(500 * time.Second) // 100s left: outside the 60s margin
			call()
			if n := f.tokens(); n != 1 {
				t.Fatalf("token fetches with 100s left: got %d, want 1", n)
			}
			clk.Advance(50 * time.Second) // 50s left: inside the margin
			call()
			if n := f.tokens(); n != 2 {
				t.Fatalf("token fetches with 50s left: got %d, want 2", n)
			}
			reqs := f.seen()
			if got := reqs[len(reqs)-1].token; got != "tok-2" {
				t.Errorf("last request's token: got %q, want tok-2", got)
			}
		})
	}
}

// TestRefreshOnceOn401: a refused token is replaced and the request
// repeated once; a second refusal is the caller's error.
func TestRefreshOnceOn401(t *testing.T) {
	t.Parallel()
	t.Run("recovers", func(t *testing.T) {
		t.Parallel()
		f, srv := newFake(t, okInbox)
		f.tokenOK = func(tok string) bool { return tok != "tok-1" } // the first token was revoked
		c := newTestClient(t, srv.URL, newFakeClock())
		if _, err := c.Inbox(t.Context(), client.InboxQuery{}); err != nil {
			t.Fatalf("Inbox: %v", err)
		}
		if n, m := f.tokens(), len(f.seen()); n != 2 || m != 2 {
			t.Errorf("got %d token fetches and %d requests, want 2 and 2", n, m)
		}
	})
	t.Run("recovers from an API Gateway authorizer denial", func(t *testing.T) {
		t.Parallel()
		f, srv := newFake(t, okInbox)
		f.tokenOK = func(tok string) bool { return tok != "tok-1" }
		f.gatewayDenies = true
		c := newTestClient(t, srv.URL, newFakeClock())
		if _, err := c.Inbox(t.Context(), client.InboxQuery{}); err != nil {
			t.Fatalf("Inbox: %v", err)
		}
		if n := f.tokens(); n != 2 {
			t.Errorf("token fetches: got %d, want 2", n)
		}
	})
	t.Run("a missing scope is final", func(t *testing.T) {
		t.Parallel()
		f, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
			problem(w, http.StatusForbidden, "forbidden", "this token lacks the scope inbox:read")
		})
		c := newTestClient(t, srv.URL, newFakeClock())
		_, err := c.Inbox(t.Context(), client.InboxQuery{})
		if !client.IsForbidden(err) {
			t.Fatalf("err: got %v, want forbidden", err)
		}
		if n, m := f.tokens(), len(f.seen()); n != 1 || m != 1 {
			t.Errorf("got %d token fetches and %d requests, want 1 and 1", n, m)
		}
	})
	t.Run("gives up after one refresh", func(t *testing.T) {
		t.Parallel()
		f, srv := newFake(t, okInbox)
		f.tokenOK = func(string) bool { return false }
		c := newTestClient(t, srv.URL, newFakeClock())
		_, err := c.Inbox(t.Context(), client.InboxQuery{})
		if !client.IsUnauthorized(err) {
			t.Fatalf("err: got %v, want unauthorized", err)
		}
		if n, m := f.tokens(), len(f.seen()); n != 2 || m != 2 {
			t.Errorf("got %d token fetches and %d requests, want 2 and 2", n, m)
		}
	})
	t.Run("concurrent refusals share one refresh", func(t *testing.T) {
		t.Parallel()
		f, srv := newFake(t, okInbox)
		f.tokenOK = func(tok string) bool { return tok != "tok-1" }
		c := newTestClient(t, srv.URL, newFakeClock())
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				if _, err := c.Inbox(t.Context(), client.InboxQuery{}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := f.tokens(); n != 2 {
			t.Errorf("token fetches: got %d, want 2", n)
		}
	})
}

// TestStaleTokenOutlivesAFailedRefresh: if the early refresh fails for a
// passing reason, the current token is used until it actually expires.
func TestStaleTokenOutlivesAFailedRefresh(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t, okInbox)
	f.tokenHandle = func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Write([]byte(`{"access_token":"tok-1","token_type":"bearer","expires_in":"600"}`))
			return
		}
		problem(w, 503, "unavailable", "keyring down")
	}
	clk := newFakeClock()
	c := newTestClient(t, srv.URL, clk, client.WithRetry(client.RetryPolicy{MaxAttempts: 2}))
	if _, err := c.Inbox(t.Context(), client.InboxQuery{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(590 * time.Second)
	if _, err := c.Inbox(t.Context(), client.InboxQuery{}); err != nil {
		t.Fatalf("Inbox with a failing refresh and a valid token: %v", err)
	}
	clk.Advance(20 * time.Second) // now past expiry
	if _, err := c.Inbox(t.Context(), client.InboxQuery{}); !client.IsUnavailable(err) {
		t.Fatalf("Inbox with an expired token and a failing refresh: got %v, want unavailable", err)
	}
}

// TestSecretsStayOut: neither the API key nor a token appears in errors or
// in the debug log, whatever happens.
func TestSecretsStayOut(t *testing.T) {
	t.Parallel()
	const apiKey = "trg_abcdef123456_SuperSecretValue0123456789"
	f, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n { // n == 1 was refused for its token
		case 2:
			problem(w, 503, "unavailable", "")
		case 3:
			hangUp(w)
		default:
			problem(w, 422, "validation_failed", "type is required")
		}
	})
	f.tokenOK = func(tok string) bool { return tok != "tok-1" }
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clk := newFakeClock()
	c, err := client.New(srv.URL, apiKey, client.WithLogger(logger), client.WithClock(clk.Now), client.WithSleep(clk.Sleep))
	if err != nil {
		t.Fatal(err)
	}
	_, sendErr := c.Send(t.Context(), client.Event{Source: "x"})
	if sendErr == nil {
		t.Fatal("Send: want an error")
	}
	// A key the server refuses.
	bad, badSrv := newFake(t, okInbox)
	bad.tokenHandle = func(n int, w http.ResponseWriter, r *http.Request) {
		problem(w, 401, "unauthorized", "API key not recognised")
	}
	c2, _ := client.New(badSrv.URL, apiKey, client.WithLogger(logger))
	_, tokenErr := c2.Inbox(t.Context(), client.InboxQuery{})
	if !client.IsUnauthorized(tokenErr) {
		t.Fatalf("bad key: got %v, want unauthorized", tokenErr)
	}
	for _, text := range []string{sendErr.Error(), tokenErr.Error(), logs.String(), c.String()} {
		for _, secret := range []string{apiKey, "SuperSecret", "tok-1", "tok-2", "Bearer"} {
			if strings.Contains(text, secret) {
				t.Errorf("%q leaks %q", text, secret)
			}
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("the debug log does not mention the retries:\n%s", logs.String())
	}
}

package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/client"
)

func seeded() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

const someID = "019ac9f1-5a00-7c3e-9d2a-4b1f0e8c7a61"

// TestSendRetriesWithOneKey: whatever goes wrong between attempts, every
// attempt of one Send carries the same Idempotency-Key and the same bytes.
func TestSendRetriesWithOneKey(t *testing.T) {
	t.Parallel()
	failures := []struct {
		name string
		fail func(w http.ResponseWriter)
	}{
		{"503", func(w http.ResponseWriter) { problem(w, 503, "unavailable", "store busy") }},
		{"429", func(w http.ResponseWriter) { problem(w, 429, "rate_limited", "slow down") }},
		{"500", func(w http.ResponseWriter) { problem(w, 500, "internal", "oops") }},
		{"502", func(w http.ResponseWriter) { w.WriteHeader(502) }},
		{"504", func(w http.ResponseWriter) { w.WriteHeader(504) }},
		{"hang up", hangUp},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n < 3 {
					tc.fail(w)
					return
				}
				created(w, someID)
			})
			clk := newFakeClock()
			c := newTestClient(t, srv.URL, clk)
			got, err := c.Send(t.Context(), client.Event{Type: "a.b", Source: "s", Payload: map[string]int{"n": 1}})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if got.ID != someID {
				t.Errorf("id: got %q, want %q", got.ID, someID)
			}
			reqs := f.seen()
			if len(reqs) != 3 {
				t.Fatalf("requests: got %d, want 3", len(reqs))
			}
			for i, r := range reqs {
				if r.idempotencyKey == "" || r.idempotencyKey != reqs[0].idempotencyKey {
					t.Errorf("attempt %d Idempotency-Key: got %q, want %q", i+1, r.idempotencyKey, reqs[0].idempotencyKey)
				}
				if !bytes.Equal(r.body, reqs[0].body) {
					t.Errorf("attempt %d body: got %s, want %s", i+1, r.body, reqs[0].body)
				}
			}
			if got.IdempotencyKey != reqs[0].idempotencyKey {
				t.Errorf("Created.IdempotencyKey: got %q, want %q", got.IdempotencyKey, reqs[0].idempotencyKey)
			}
			// net/http itself replays a request carrying an Idempotency-Key
			// once when a reused connection turns out closed, so a hang-up
			// may cost one wait less.
			if n := len(clk.Sleeps()); n < 1 || n > 2 {
				t.Errorf("waits: got %d, want 1 or 2", n)
			}
		})
	}
}

// TestFailedSendNamesItsKey: a Send that gives up says which key to repeat
// it with, and still unwraps to the answer.
func TestFailedSendNamesItsKey(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) { problem(w, 503, "unavailable", "down") })
	c := newTestClient(t, srv.URL, newFakeClock(), client.WithRetry(client.RetryPolicy{MaxAttempts: 3}))
	_, err := c.Send(t.Context(), client.Event{Type: "a", Source: "b"})
	var se *client.SendError
	if !errors.As(err, &se) || !client.IsUnavailable(err) {
		t.Fatalf("err: got %#v, want a *SendError wrapping a 503", err)
	}
	reqs := f.seen()
	if len(reqs) != 3 || se.IdempotencyKey != reqs[0].idempotencyKey {
		t.Errorf("got key %q after %d attempts, want the key sent (%q) after 3", se.IdempotencyKey, len(reqs), reqs[0].idempotencyKey)
	}
}

// TestEachSendHasItsOwnKey: two logical sends of the same event are two
// events, so they must not share a key.
func TestEachSendHasItsOwnKey(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) { created(w, someID) })
	c := newTestClient(t, srv.URL, newFakeClock())
	for range 2 {
		if _, err := c.Send(t.Context(), client.Event{Type: "a", Source: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.seen()
	if reqs[0].idempotencyKey == reqs[1].idempotencyKey {
		t.Errorf("two sends shared the key %q", reqs[0].idempotencyKey)
	}
	if _, err := c.Send(t.Context(), client.Event{Type: "a", Source: "b"}, client.WithIdempotencyKey("order-42")); err != nil {
		t.Fatal(err)
	}
	if got := f.seen()[2].idempotencyKey; got != "order-42" {
		t.Errorf("WithIdempotencyKey: got %q, want order-42", got)
	}
}

func TestReplayedIsSuccess(t *testing.T) {
	t.Parallel()
	_, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Idempotent-Replayed", "true")
		created(w, someID)
	})
	c := newTestClient(t, srv.URL, newFakeClock())
	got, err := c.Send(t.Context(), client.Event{Type: "a", Source: "b"})
	if err != nil || !got.Replayed || got.ID != someID {
		t.Fatalf("got %+v, %v; want a replayed %s", got, err, someID)
	}
}

// TestRetryAfter: the server's Retry-After is the wait, in either form;
// one longer than MaxRetryAfter ends the call at once and is reported.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	cases := []struct {
		name       string
		header     string
		wantWaits  []time.Duration
		wantErr    bool
		wantAdvice time.Duration
	}{
		{"seconds", "7", []time.Duration{7 * time.Second}, false, 0},
		{"http date", clk.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat), nil, true, 90 * time.Second},
		{"http date within cap", clk.Now().Add(20 * time.Second).UTC().Format(http.TimeFormat), []time.Duration{20 * time.Second}, false, 0},
		{"longer than the cap", "3600", nil, true, time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newFakeClock() // same start as the one the dates were made from
			f, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", tc.header)
					problem(w, 429, "rate_limited", "slow down")
					return
				}
				w.Write([]byte(`[]`))
			})
			c := newTestClient(t, srv.URL, clk, client.WithRetry(client.RetryPolicy{MaxRetryAfter: 30 * time.Second}))
			_, err := c.Inbox(t.Context(), client.InboxQuery{})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err: got %v, want error %v", err, tc.wantErr)
			}
			if got := clk.Sleeps(); fmt.Sprint(got) != fmt.Sprint(tc.wantWaits) {
				t.Errorf("waits: got %v, want %v", got, tc.wantWaits)
			}
			if tc.wantErr {
				var e *client.Error
				if !errors.As(err, &e) || e.RetryAfter != tc.wantAdvice || !client.IsRateLimited(err) {
					t.Errorf("error: got %#v, want a rate_limited *Error with RetryAfter %v", err, tc.wantAdvice)
				}
				if n := len(f.seen()); n != 1 {
					t.Errorf("requests: got %d, want 1", n)
				}
			}
		})
	}
}

// TestBackoffIsFullJitter: without Retry-After, wait n is within
// [0, min(MaxDelay, BaseDelay·2^(n-1))], and the call gives up after
// MaxAttempts with the last answer.
func TestBackoffIsFullJitter(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) { problem(w, 503, "unavailable", "down") })
	clk := newFakeClock()
	policy := client.RetryPolicy{MaxAttempts: 8, MaxElapsed: time.Hour, BaseDelay: 100 * time.Millisecond, MaxDelay: 2 * time.Second}
	c := newTestClient(t, srv.URL, clk, client.WithRetry(policy))
	_, err := c.Get(t.Context(), someID)
	if !client.IsUnavailable(err) {
		t.Fatalf("err: got %v, want unavailable", err)
	}
	if n := len(f.seen()); n != 8 {
		t.Errorf("attempts: got %d, want 8", n)
	}
	waits := clk.Sleeps()
	if len(waits) != 7 {
		t.Fatalf("waits: got %d, want 7", len(waits))
	}
	var sum time.Duration
	for i, w := range waits {
		ceiling := min(policy.MaxDelay, policy.BaseDelay<<i)
		if w < 0 || w > ceiling {
			t.Errorf("wait %d: got %v, want within [0, %v]", i+1, w, ceiling)
		}
		sum += w
	}
	if sum == 0 {
		t.Error("every wait was zero: no jitter drawn")
	}
}

// TestMaxElapsed: a wait that would end past the budget is not taken.
func TestMaxElapsed(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "4")
		problem(w, 503, "unavailable", "down")
	})
	clk := newFakeClock()
	c := newTestClient(t, srv.URL, clk, client.WithRetry(client.RetryPolicy{MaxAttempts: 100, MaxElapsed: 10 * time.Second}))
	_, err := c.Get(t.Context(), someID)
	if !client.IsUnavailable(err) {
		t.Fatalf("err: got %v, want unavailable", err)
	}
	// Waits of 4s fit twice into 10s; the third would end at 12s.
	if n := len(f.seen()); n != 3 {
		t.Errorf("attempts: got %d, want 3", n)
	}
}

// TestNonIdempotentRetries: creating a subscription is repeated only when
// the server surely did not act on it.
func TestNonIdempotentRetries(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		fail      func(w http.ResponseWriter)
		wantTries int
	}{
		{"429 is retried", func(w http.ResponseWriter) { problem(w, 429, "rate_limited", "") }, 2},
		{"our 503 is retried", func(w http.ResponseWriter) { problem(w, 503, "unavailable", "") }, 2},
		{"a gateway's 503 is not", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(503)
			w.Write([]byte(`{"message":"Service Unavailable"}`))
		}, 1},
		{"500 is not", func(w http.ResponseWriter) { problem(w, 500, "internal", "") }, 1},
		{"502 is not", func(w http.ResponseWriter) { w.WriteHeader(502) }, 1},
		{"504 is not", func(w http.ResponseWriter) { w.WriteHeader(504) }, 1},
		{"a lost answer is not", hangUp, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					tc.fail(w)
					return
				}
				w.WriteHeader(201)
				w.Write([]byte(`{"id":"` + someID + `","target_url":"https://x.example/h","event_types":[],"secret":"whsec_x"}`))
			})
			c := newTestClient(t, srv.URL, newFakeClock())
			_, err := c.Subscribe(t.Context(), "https://x.example/h", nil)
			if n := len(f.seen()); n != tc.wantTries {
				t.Errorf("attempts: got %d, want %d", n, tc.wantTries)
			}
			if (err == nil) != (tc.wantTries == 2) {
				t.Errorf("err: got %v", err)
			}
		})
	}
}

// TestDialFailureIsRetriedForAnyRequest: a connection that could not be
// made carried no request, so even a subscribe is repeated.
func TestDialFailureIsRetriedForAnyRequest(t *testing.T) {
	t.Parallel()
	_, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(201)
		w.Write([]byte(`{"id":"` + someID + `","target_url":"https://x.example/h","event_types":[]}`))
	})
	var dials atomic.Int32
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 2 { // the token fetch dials first
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	tr.DisableKeepAlives = true
	c := newTestClient(t, srv.URL, newFakeClock(), client.WithHTTPClient(&http.Client{Transport: tr}))
	if _, err := c.Subscribe(t.Context(), "https://x.example/h", nil); err != nil {
		t.Fatalf("Subscribe after a failed dial: %v", err)
	}
}

// TestNotRetried: answers that would be the same next time end the call.
func TestNotRetried(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 403, 404, 409, 413, 415, 422} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			f, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) { problem(w, status, "x", "no") })
			c := newTestClient(t, srv.URL, newFakeClock())
			_, err := c.Send(t.Context(), client.Event{Type: "a", Source: "b"})
			var e *client.Error
			if !errors.As(err, &e) || e.StatusCode != status {
				t.Fatalf("err: got %v, want an *Error with status %d", err, status)
			}
			if n := len(f.seen()); n != 1 {
				t.Errorf("attempts: got %d, want 1", n)
			}
		})
	}
}

// TestContextEndsRetries: a cancelled context stops the waiting.
func TestContextEndsRetries(t *testing.T) {
	t.Parallel()
	_, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) { problem(w, 503, "unavailable", "") })
	ctx, cancel := context.WithCancel(t.Context())
	sleeps := 0
	c, err := client.New(srv.URL, "k", client.WithSleep(func(context.Context, time.Duration) error {
		sleeps++
		cancel()
		return context.Canceled
	}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(ctx, someID)
	if !errors.Is(err, context.Canceled) || !client.IsUnavailable(err) {
		t.Errorf("err: got %v, want both the last answer and context.Canceled", err)
	}
	if sleeps != 1 {
		t.Errorf("waits: got %d, want 1", sleeps)
	}
}

// TestUnsubscribeAfterLostAnswer: a DELETE whose answer was lost is
// repeated; the repeat's 404 means the first one worked.
func TestUnsubscribeAfterLostAnswer(t *testing.T) {
	t.Parallel()
	_, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			hangUp(w)
			return
		}
		problem(w, 404, "not_found", "subscription not found")
	})
	c := newTestClient(t, srv.URL, newFakeClock())
	if err := c.Unsubscribe(t.Context(), someID); err != nil {
		t.Errorf("Unsubscribe: got %v, want nil", err)
	}

	// Without a lost answer, a 404 is a 404.
	_, srv2 := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) { problem(w, 404, "not_found", "") })
	c2 := newTestClient(t, srv2.URL, newFakeClock())
	if err := c2.Unsubscribe(t.Context(), someID); !client.IsNotFound(err) {
		t.Errorf("Unsubscribe of an unknown id: got %v, want not found", err)
	}
}

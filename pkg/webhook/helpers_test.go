package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/internal/testenv"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/webhook"
)

// verifyByHand is a receiver's check written from the Standard Webhooks
// specification, independent of the package and of the library it uses:
// the timestamp within 5 minutes of now, and the signature by crypto/hmac
// alone (testenv.VerifyWebhookSignature).
func verifyByHand(secret string, h http.Header, body []byte, now time.Time) error {
	ts := h.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", ts, err)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %d is %v from now", sec, d)
	}
	return testenv.VerifyWebhookSignature(secret, h, body)
}

// received is one request as a receiver saw it, with both verdicts.
type received struct {
	header     http.Header
	body       []byte
	handErr    error // verifyByHand
	packageErr error // webhook.Verify (the Standard Webhooks library)
}

// receiver is a real HTTP server that verifies every request both ways and
// answers from a script, one handler per request; past the end of the
// script it answers 200.
type receiver struct {
	*httptest.Server
	secret string

	mu     sync.Mutex
	got    []received
	script []http.HandlerFunc
}

func newReceiver(t *testing.T, secret string, script ...http.HandlerFunc) *receiver {
	t.Helper()
	r := &receiver{secret: secret, script: script}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		now := time.Now()
		rec := received{
			header:     req.Header.Clone(),
			body:       body,
			handErr:    verifyByHand(r.secret, req.Header, body, now),
			packageErr: webhook.VerifyAt(r.secret, req.Header, body, 0, now),
		}
		r.mu.Lock()
		n := len(r.got)
		r.got = append(r.got, rec)
		var h http.HandlerFunc
		if n < len(r.script) {
			h = r.script[n]
		}
		r.mu.Unlock()
		if h == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
		h(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

// testEvent returns an event whose payload has what a re-encoder would
// change: a long number, HTML characters, escapes and unsorted keys.
func testEvent() event.Event {
	return event.Event{
		ID:        "0190a0b0-1111-7000-8000-000000000001",
		Type:      "order.created",
		Source:    "shop<&>",
		Payload:   []byte(`{"z":1.000000000000000000001,"html":"<b>&amp;</b>","esc":"\u00e9\n","a":[1,2,{"b":null}]}`),
		Status:    event.StatusPending,
		CreatedAt: time.Date(2026, 11, 28, 10, 0, 0, 123456000, time.UTC),
		UpdatedAt: time.Date(2026, 11, 28, 10, 0, 0, 123456000, time.UTC),
	}
}

// localSender is a Sender allowed to reach loopback, for tests against
// httptest servers.
func localSender(t *testing.T, o webhook.Options) *webhook.Sender {
	t.Helper()
	o.AllowPrivateNetworks = true
	s := webhook.NewSender(o)
	t.Cleanup(s.Close)
	return s
}

// staticResolver answers from a map; an unknown name is "not found".
func staticResolver(m map[string][]string) webhook.ResolverFunc {
	return func(_ context.Context, _, host string) ([]netip.Addr, error) {
		addrs, ok := m[host]
		if !ok {
			return nil, fmt.Errorf("lookup %s: no such host", host)
		}
		out := make([]netip.Addr, 0, len(addrs))
		for _, a := range addrs {
			out = append(out, netip.MustParseAddr(a))
		}
		return out, nil
	}
}

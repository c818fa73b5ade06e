package stream_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/stream"
)

// hangingReceiver answers nothing until released, and tracks how many
// requests it holds at once.
type hangingReceiver struct {
	*receiver
	release chan struct{}

	once sync.Once

	mu            sync.Mutex
	held, maxHeld int
}

// Release lets every held and future request be answered 200.
func (h *hangingReceiver) Release() { h.once.Do(func() { close(h.release) }) }

func newHangingReceiver(t testing.TB) *hangingReceiver {
	h := &hangingReceiver{release: make(chan struct{})}
	h.receiver = newReceiver(t, func(_ int, r *http.Request, _ http.ResponseWriter) int {
		h.mu.Lock()
		h.held++
		h.maxHeld = max(h.maxHeld, h.held)
		h.mu.Unlock()
		select {
		case <-h.release:
		case <-r.Context().Done():
		}
		h.mu.Lock()
		h.held--
		h.mu.Unlock()
		return http.StatusOK
	})
	t.Cleanup(h.Release) // runs before the server closes
	return h
}

func (h *hangingReceiver) maxConcurrent() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.maxHeld
}

func TestDeadTargetDoesNotStarveOthers(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{policy: tinyPolicy(3), concurrency: 8, perSubscription: 2})
	dead := newHangingReceiver(t)
	sd := w.subscribe(dead.URL(), "dead.*")
	dead.setSecret(sd.Secret)
	ok := newReceiver(t, always(200))
	so := w.subscribe(ok.URL(), "ok.*")
	ok.setSecret(so.Secret)

	for range 40 {
		w.publish("dead.created", `{}`)
	}
	w.eventually("the dead target to hold its slots", 0, func() bool { return len(dead.requests()) >= 2 })
	var want []string
	for range 20 {
		want = append(want, event.DeliveryID(w.publish("ok.created", `{}`).ID, so.ID))
	}
	w.eventually("every delivery to the healthy target while the other hangs", 0, func() bool { return len(ok.accepted()) == 20 })
	for _, id := range want {
		if ok.accepted()[id] != 1 {
			t.Errorf("delivery %s: got %d, want 1", id, ok.accepted()[id])
		}
	}
	if got := dead.maxConcurrent(); got > 2 {
		t.Errorf("the hanging target held %d requests at once, want at most 2 (PerSubscription)", got)
	}
}

func TestBreakerDefersDeliveriesToAFailingTarget(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{policy: tinyPolicy(10), breaker: stream.BreakerOptions{Threshold: 2, Cooldown: time.Minute}})
	rc := newReceiver(t, always(http.StatusServiceUnavailable))
	sub := w.subscribe(rc.URL())
	rc.setSecret(sub.Secret)
	e := w.publish("order.created", `{}`)

	w.eventually("the delivery to die", time.Millisecond, func() bool { return len(w.attempts(sub.ID)) == 10 })
	if d := w.delivery(e.ID, sub.ID); d.State != event.DeliveryDead {
		t.Errorf("delivery: got %s, want dead", d.State)
	}
	if n := len(rc.requests()); n != 2 {
		t.Errorf("the target got %d requests, want 2 (then the circuit opened)", n)
	}
	for _, a := range w.attempts(sub.ID)[2:] {
		if a.Outcome != event.OutcomeRetry || a.StatusCode != 0 || !strings.HasPrefix(a.Error, "not sent: the target's last 2 attempts failed") {
			t.Errorf("attempt %d: got %s %d %q, want a deferred retry", a.N, a.Outcome, a.StatusCode, a.Error)
		}
	}
	if got := scrapeValue(t, w.metrics, "triggers_webhook_attempts_total"); got != 2 {
		t.Errorf("attempts metric: got %v, want 2 (deferrals are not attempts)", got)
	}

	s, err := w.store.GetSubscription(context.Background(), sub.ID)
	if err != nil || s.Active() {
		t.Fatalf("subscription: got %v %v, want disabled after the dead delivery", s, err)
	}
}

func TestBreakerProbesAfterTheCooldown(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{policy: tinyPolicy(10), breaker: stream.BreakerOptions{Threshold: 2, Cooldown: time.Minute}})
	var mu sync.Mutex
	status := http.StatusServiceUnavailable
	rc := newReceiver(t, func(int, *http.Request, http.ResponseWriter) int {
		mu.Lock()
		defer mu.Unlock()
		return status
	})
	sub := w.subscribe(rc.URL())
	rc.setSecret(sub.Secret)
	w.publish("order.created", `{}`)
	w.eventually("the circuit to open", time.Millisecond, func() bool { return len(w.attempts(sub.ID)) >= 3 })
	mu.Lock()
	status = http.StatusOK
	mu.Unlock()
	e2 := w.publish("order.created", `{}`)
	w.eventually("the probe after the cooldown to succeed", 10*time.Second, func() bool {
		return rc.accepted()[event.DeliveryID(e2.ID, sub.ID)] == 1
	})
}

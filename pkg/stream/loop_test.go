package stream_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/webhook"
)

func TestDeliversSignedEventsToMatchingSubscriptions(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{policy: tinyPolicy(3)})
	orders := newReceiver(t, always(200))
	users := newReceiver(t, always(204))
	disabled := newReceiver(t, always(200))
	so := w.subscribe(orders.URL(), "order.*")
	orders.setSecret(so.Secret)
	su := w.subscribe(users.URL(), "user.created")
	users.setSecret(su.Secret)
	sd := w.subscribe(disabled.URL())
	if _, _, err := w.store.DisableSubscription(context.Background(), sd.ID, "test"); err != nil {
		t.Fatal(err)
	}

	var want []event.Event
	for i := range 5 {
		want = append(want, w.publish("order.created", fmt.Sprintf(`{"n":%d,"big":12345678901234567890}`, i)))
	}
	u := w.publish("user.created", `{}`)
	w.publish("user.deleted", `{}`)

	w.eventually("5 order deliveries and 1 user delivery", 0, func() bool {
		return len(orders.accepted()) == 5 && len(users.accepted()) == 1
	})
	for _, e := range want {
		id := event.DeliveryID(e.ID, so.ID)
		if got := orders.accepted()[id]; got != 1 {
			t.Errorf("delivery %s: received %d times, want 1", id, got)
		}
	}
	for _, r := range orders.requests() {
		if !r.signatureOK {
			t.Errorf("request %s: the signature does not verify by hand", r.id)
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		keys := make([]string, 0, len(body))
		for k := range body {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"created_at", "id", "payload", "source", "type"}) {
			t.Errorf("body members: got %v", keys)
		}
		if !strings.Contains(string(body["payload"]), "12345678901234567890") {
			t.Errorf("payload not byte-exact: %s", body["payload"])
		}
	}
	if got := users.accepted()[event.DeliveryID(u.ID, su.ID)]; got != 1 {
		t.Errorf("user.created: received %d times, want 1", got)
	}
	if n := len(disabled.requests()); n != 0 {
		t.Errorf("a disabled subscription got %d requests, want 0", n)
	}
}

func TestRetriesUntilSuccessAndDeliversOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{policy: tinyPolicy(5)})
	rc := newReceiver(t, func(n int, _ *http.Request, _ http.ResponseWriter) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	sub := w.subscribe(rc.URL())
	rc.setSecret(sub.Secret)
	e := w.publish("order.created", `{}`)
	id := event.DeliveryID(e.ID, sub.ID)

	w.eventually("the delivery to succeed", time.Second, func() bool { return w.lastOutcome(sub.ID) == event.OutcomeSuccess })
	if got := rc.accepted(); len(got) != 1 || got[id] != 1 {
		t.Errorf("accepted: got %v, want %s once", got, id)
	}
	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("got %d requests, want 3", len(reqs))
	}
	for _, r := range reqs {
		if r.id != id || !r.signatureOK {
			t.Errorf("request: got id %s signature ok %v, want %s and true", r.id, r.signatureOK, id)
		}
	}
	as := w.attempts(sub.ID)
	var outcomes []event.Outcome
	for i, a := range as {
		outcomes = append(outcomes, a.Outcome)
		if a.N != i+1 {
			t.Errorf("attempt %d numbered %d", i+1, a.N)
		}
	}
	if want := []event.Outcome{event.OutcomeRetry, event.OutcomeRetry, event.OutcomeSuccess}; !slices.Equal(outcomes, want) {
		t.Errorf("outcomes: got %v, want %v", outcomes, want)
	}
	if as[0].StatusCode != 500 || as[0].Error != "HTTP 500" {
		t.Errorf("first attempt: got %d %q, want 500 and HTTP 500", as[0].StatusCode, as[0].Error)
	}
	w.eventually("metrics", 0, func() bool { return scrapeValue(t, w.metrics, "triggers_webhook_successes_total") == 1 })
	for name, want := range map[string]float64{
		"triggers_webhook_attempts_total": 3, "triggers_webhook_failures_total": 2,
		"triggers_events_ingested_total": 1, "triggers_webhook_latency_seconds_count": 3,
	} {
		if got := scrapeValue(t, w.metrics, name); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{policy: tinyPolicy(5)})
	rc := newReceiver(t, func(n int, _ *http.Request, rw http.ResponseWriter) int {
		if n == 1 {
			rw.Header().Set("Retry-After", "120")
			return http.StatusTooManyRequests
		}
		return http.StatusOK
	})
	sub := w.subscribe(rc.URL())
	rc.setSecret(sub.Secret)
	e := w.publish("order.created", `{}`)

	w.eventually("the first attempt", 0, func() bool { return len(w.attempts(sub.ID)) == 1 })
	d := w.delivery(e.ID, sub.ID)
	a := w.attempts(sub.ID)[0]
	end := a.At.Add(a.Latency)
	if d.State != event.DeliveryPending || d.NextAttemptAt.Sub(end) < 120*time.Second {
		t.Fatalf("after a 429 with Retry-After 120: got %s due %v after the attempt, want pending and at least 2m", d.State, d.NextAttemptAt.Sub(end))
	}
	if a.StatusCode != 429 || a.Outcome != event.OutcomeRetry {
		t.Errorf("attempt: got %d %s, want 429 retry", a.StatusCode, a.Outcome)
	}
	// 119 s later it is still not due: nothing is sent.
	w.clock.Advance(119 * time.Second)
	for range 10 {
		w.scheduler.Wake()
		time.Sleep(2 * time.Millisecond)
	}
	if n := len(rc.requests()); n != 1 {
		t.Fatalf("before Retry-After elapsed: got %d requests, want 1", n)
	}
	w.eventually("the retry to succeed", time.Second, func() bool { return w.lastOutcome(sub.ID) == event.OutcomeSuccess })
	if d := w.delivery(e.ID, sub.ID); d.State != event.DeliverySucceeded || d.Attempts != 2 {
		t.Errorf("delivery: got %s after %d attempts, want succeeded after 2", d.State, d.Attempts)
	}
}

func TestHangPastTheTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{policy: tinyPolicy(3), timeout: 100 * time.Millisecond})
	rc := newReceiver(t, func(n int, r *http.Request, _ http.ResponseWriter) int {
		if n == 1 {
			<-r.Context().Done() // hang until the sender gives up
		}
		return http.StatusOK
	})
	sub := w.subscribe(rc.URL())
	rc.setSecret(sub.Secret)
	w.publish("order.created", `{}`)

	w.eventually("the delivery to succeed", time.Second, func() bool { return w.lastOutcome(sub.ID) == event.OutcomeSuccess })
	as := w.attempts(sub.ID)
	if len(as) != 2 || as[0].Outcome != event.OutcomeRetry || as[0].Error != "timed out after 100ms" || as[0].StatusCode != 0 {
		t.Fatalf("attempts: got %+v, want a timed-out retry then a success", as)
	}
	reqs := rc.requests()
	if len(reqs) != 2 || !reqs[0].aborted || reqs[1].status != 200 {
		t.Errorf("receiver: got %+v, want the first request abandoned and the second answered", reqs)
	}
}

func TestGoneDeletesTheSubscription(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{policy: tinyPolicy(5)})
	rc := newReceiver(t, always(http.StatusGone))
	sub := w.subscribe(rc.URL())
	rc.setSecret(sub.Secret)
	e := w.publish("order.created", `{}`)

	w.eventually("the subscription to be deleted", 0, func() bool {
		_, err := w.store.GetSubscription(context.Background(), sub.ID)
		return event.ErrorCode(err) == event.CodeNotFound
	})
	d := w.delivery(e.ID, sub.ID)
	if d.State != event.DeliveryFailed || d.Attempts != 1 {
		t.Errorf("delivery: got %s after %d attempts, want failed after 1", d.State, d.Attempts)
	}
	w.publish("order.created", `{}`)
	w.eventually("the second event to be handled", 0, func() bool {
		return scrapeValue(t, w.metrics, "triggers_events_ingested_total") == 2
	})
	if n := len(rc.requests()); n != 1 {
		t.Errorf("got %d requests, want 1 (nothing after the 410)", n)
	}
}

func TestDeadTargetDisablesTheSubscription(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{policy: tinyPolicy(4)})
	rc := newReceiver(t, always(http.StatusServiceUnavailable))
	sub := w.subscribe(rc.URL())
	rc.setSecret(sub.Secret)
	e := w.publish("order.created", `{}`)

	w.eventually("the subscription to be disabled", time.Second, func() bool {
		s, err := w.store.GetSubscription(context.Background(), sub.ID)
		return err == nil && !s.Active()
	})
	s, _ := w.store.GetSubscription(context.Background(), sub.ID)
	if s.DisabledReason != "a delivery failed all 4 attempts over about a day" {
		t.Errorf("reason: got %q", s.DisabledReason)
	}
	d := w.delivery(e.ID, sub.ID)
	if d.State != event.DeliveryDead || d.Attempts != 4 {
		t.Errorf("delivery: got %s after %d attempts, want dead after 4", d.State, d.Attempts)
	}
	as := w.attempts(sub.ID)
	if len(as) != 4 {
		t.Fatalf("got %d attempts recorded, want 4", len(as))
	}
	for _, a := range as {
		if a.StatusCode != 503 || a.Error != "HTTP 503" {
			t.Errorf("attempt %d: got %d %q, want 503", a.N, a.StatusCode, a.Error)
		}
	}
	// What the subscriber sees through the HTTP API.
	var shown struct {
		Status         string `json:"status"`
		DisabledReason string `json:"disabled_reason"`
	}
	getJSON(t, w, "/subscriptions/"+sub.ID, &shown)
	if shown.Status != "disabled" || shown.DisabledReason != s.DisabledReason {
		t.Errorf("GET /subscriptions/{id}: got %+v, want disabled with the reason", shown)
	}
	var listed []event.Attempt
	getJSON(t, w, "/subscriptions/"+sub.ID+"/deliveries", &listed)
	if len(listed) != 4 || listed[0].N != 4 || listed[0].StatusCode != 503 || listed[0].Error != "HTTP 503" || listed[0].Outcome != event.OutcomeRetry {
		t.Errorf("GET /subscriptions/{id}/deliveries: got %+v, want the 4 failed attempts, newest first", listed)
	}
	for name, want := range map[string]float64{
		"triggers_webhook_dead_lettered_total": 1, "triggers_subscriptions_disabled_total": 1,
	} {
		if got := scrapeValue(t, w.metrics, name); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	// A disabled subscription gets nothing more.
	w.publish("order.created", `{}`)
	w.eventually("the next event to be handled", 0, func() bool {
		return scrapeValue(t, w.metrics, "triggers_events_ingested_total") == 2
	})
	if n := len(rc.requests()); n != 4 {
		t.Errorf("got %d requests, want 4", n)
	}
}

func TestConsecutiveFailuresOverADayDisable(t *testing.T) {
	t.Parallel()
	// 404 is never retried, so no delivery is ever exhausted: the second
	// rule (10 failures in a row, the first a day old) catches it.
	w := newWorld(t, worldOptions{policy: webhook.Policy{DisableAfterFailures: 3, DisableAfter: 24 * time.Hour}})
	rc := newReceiver(t, always(http.StatusNotFound))
	sub := w.subscribe(rc.URL())
	rc.setSecret(sub.Secret)
	for range 3 {
		w.publish("order.created", `{}`)
	}
	w.eventually("3 failed attempts", 0, func() bool { return len(w.attempts(sub.ID)) == 3 })
	if s, _ := w.store.GetSubscription(context.Background(), sub.ID); !s.Active() {
		t.Fatal("disabled before a day of failures")
	}
	w.clock.Advance(25 * time.Hour)
	w.publish("order.created", `{}`)
	w.eventually("the subscription to be disabled", 0, func() bool {
		s, err := w.store.GetSubscription(context.Background(), sub.ID)
		return err == nil && !s.Active()
	})
	s, _ := w.store.GetSubscription(context.Background(), sub.ID)
	if !strings.HasPrefix(s.DisabledReason, "3 consecutive failed attempts and no success since 2026-11-28T10:00:00") {
		t.Errorf("reason: got %q", s.DisabledReason)
	}
}

func TestRecordSeenTwiceDeliversOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{policy: tinyPolicy(3)})
	rc := newReceiver(t, always(200))
	sub := w.subscribe(rc.URL())
	rc.setSecret(sub.Secret)
	e := w.publish("order.created", `{}`)
	w.eventually("the delivery", 0, func() bool { return len(rc.accepted()) == 1 })

	// The same record again, as after a crash before the checkpoint.
	for range 3 {
		if err := w.consumer.Handle(context.Background(), event.Change{Kind: event.ChangeCreated, Event: e, At: e.CreatedAt}); err != nil {
			t.Fatal(err)
		}
	}
	w.publish("order.created", `{}`) // a marker: once it arrives, any duplicate would have too
	w.eventually("the marker", 0, func() bool { return len(rc.accepted()) == 2 })
	if got := rc.accepted()[event.DeliveryID(e.ID, sub.ID)]; got != 1 {
		t.Errorf("got %d deliveries of the replayed record, want 1", got)
	}
	if n := len(rc.requests()); n != 2 {
		t.Errorf("got %d requests, want 2", n)
	}
}

func TestNewSubscriptionGetsOnlyLaterEvents(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{policy: tinyPolicy(3)})
	old := newReceiver(t, always(200))
	so := w.subscribe(old.URL())
	old.setSecret(so.Secret)
	before := w.publish("order.created", `{}`)
	w.eventually("the first delivery", 0, func() bool { return len(old.accepted()) == 1 })

	w.clock.Advance(time.Millisecond)
	rc := newReceiver(t, always(200))
	sub := w.subscribe(rc.URL())
	rc.setSecret(sub.Secret)
	// The consumer's cached list predates sub; an event created after it
	// must still reach it (the cache is read again for newer events).
	after := w.publish("order.created", `{}`)
	w.eventually("the delivery to the new subscription", 0, func() bool { return len(rc.accepted()) == 1 })
	if rc.accepted()[event.DeliveryID(after.ID, sub.ID)] != 1 {
		t.Errorf("the new subscription did not get the later event")
	}
	// Replaying the older record (a consumer catching up) does not send it
	// to the subscription created after it.
	if err := w.consumer.Handle(context.Background(), event.Change{Kind: event.ChangeCreated, Event: before}); err != nil {
		t.Fatal(err)
	}
	w.publish("order.created", `{}`)
	w.eventually("the marker", 0, func() bool { return len(rc.accepted()) == 2 })
	if rc.accepted()[event.DeliveryID(before.ID, sub.ID)] != 0 {
		t.Errorf("an event created before the subscription was sent to it")
	}
}

func TestAckAndExpiryMetrics(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	e := w.publish("order.created", `{}`)
	w.clock.Advance(1500 * time.Millisecond)
	if _, _, err := w.store.Ack(context.Background(), e.ID); err != nil {
		t.Fatal(err)
	}
	w.worker.Wake()
	w.eventually("the ack to be counted", 0, func() bool { return scrapeValue(t, w.metrics, "triggers_ack_latency_seconds_count") == 1 })
	if got := scrapeValue(t, w.metrics, "triggers_events_delivered_total"); got != 1 {
		t.Errorf("delivered: got %v, want 1", got)
	}
	if got := scrapeValue(t, w.metrics, "triggers_ack_latency_seconds_sum"); got != 1.5 {
		t.Errorf("ack latency sum: got %v, want 1.5", got)
	}
	w.publish("order.created", `{}`) // never acked
	w.clock.Advance(event.DefaultRetention + time.Hour)
	if _, err := w.store.SweepExpired(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.worker.Wake()
	w.eventually("the expiry to be counted", 0, func() bool { return scrapeValue(t, w.metrics, "triggers_events_expired_total") == 1 })
	// The acked event expired too, but it was consumed: not counted.
	w.publish("marker", `{}`)
	w.eventually("the marker", 0, func() bool { return scrapeValue(t, w.metrics, "triggers_events_ingested_total") == 3 })
	if got := scrapeValue(t, w.metrics, "triggers_events_expired_total"); got != 1 {
		t.Errorf("expired: got %v, want 1", got)
	}
}

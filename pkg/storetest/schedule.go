package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

var scheduleTests = []test{
	{"DueInOrder", testDueInOrder},
	{"FollowsAttempts", testDueFollowsAttempts},
	{"Limits", testDueLimits},
	{"GoneOrDisabledSubscription", testDueGoneSubscription},
}

// schedule returns the store's DeliverySchedule, skipping the test for
// stores without one.
func (h *harness) schedule() event.DeliverySchedule {
	h.t.Helper()
	s, ok := h.s.(event.DeliverySchedule)
	if !ok {
		h.t.Skip("the store has no event.DeliverySchedule")
	}
	if _, ok := h.s.(event.DeliveryLog); !ok {
		h.t.Fatal("a store with an event.DeliverySchedule must implement event.DeliveryLog")
	}
	if _, ok := h.s.(event.SubscriptionStore); !ok {
		h.t.Fatal("a store with an event.DeliverySchedule must implement event.SubscriptionStore")
	}
	return s
}

func (h *harness) due(now time.Time, limit int) []event.Delivery {
	h.t.Helper()
	got, err := h.schedule().DueDeliveries(h.ctx, now, limit)
	if err != nil {
		h.t.Fatalf("DueDeliveries(%v, %d): %v", now, limit, err)
	}
	return got
}

func sameDeliveries(t *testing.T, what string, got, want []event.Delivery) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d deliveries, want %d", what, len(got), len(want))
	}
	for i := range got {
		sameDelivery(t, fmt.Sprintf("%s [%d]", what, i), got[i], want[i])
	}
}

// testDueInOrder: claimed deliveries are due from their NextAttemptAt on,
// oldest due first.
func testDueInOrder(t *testing.T, h *harness) {
	h.schedule()
	sub := h.createSub("https://hooks.example.com/a")
	if got := h.due(h.clock.Now(), 0); len(got) != 0 {
		t.Fatalf("fresh store: %d due, want 0", len(got))
	}
	var claimed []event.Delivery
	for range 5 {
		d, _ := h.claim(h.newDelivery(sub.ID))
		claimed = append(claimed, d)
		h.clock.Advance(time.Second)
	}
	// One claimed with a NextAttemptAt earlier than all the others.
	early := h.newDelivery(sub.ID)
	early.NextAttemptAt = claimed[0].NextAttemptAt.Add(-time.Minute)
	h.claim(early)

	sameDeliveries(t, "before the first is due", h.due(early.NextAttemptAt.Add(-time.Microsecond), 0), nil)
	sameDeliveries(t, "when the early one is due", h.due(early.NextAttemptAt, 0), []event.Delivery{early})
	sameDeliveries(t, "when the third is due", h.due(claimed[2].NextAttemptAt, 0), []event.Delivery{early, claimed[0], claimed[1], claimed[2]})
	sameDeliveries(t, "all", h.due(h.clock.Now(), 0), append([]event.Delivery{early}, claimed...))
	// Asking does not take them off the schedule.
	sameDeliveries(t, "asked again", h.due(h.clock.Now(), 2), []event.Delivery{early, claimed[0]})
	// A second claim of a due delivery neither moves nor duplicates it.
	h.claim(event.NewDelivery(claimed[1].EventID, sub.ID, h.clock.Now()))
	sameDeliveries(t, "after a repeated claim", h.due(h.clock.Now(), 0), append([]event.Delivery{early}, claimed...))
}

// testDueFollowsAttempts: a retryable attempt moves a delivery to its next
// time; a final one takes it off the schedule.
func testDueFollowsAttempts(t *testing.T, h *harness) {
	h.schedule()
	sub := h.createSub("https://hooks.example.com/a")
	var ds [4]event.Delivery
	for i := range ds {
		ds[i], _ = h.claim(h.newDelivery(sub.ID))
	}
	h.clock.Advance(time.Second)
	ds[0], _ = h.attempt(ds[0], event.OutcomeRetry, 10*time.Minute)
	ds[1], _ = h.attempt(ds[1], event.OutcomeSuccess, 0)
	ds[2], _ = h.attempt(ds[2], event.OutcomeFailed, 0)
	ds[3], _ = h.attempt(ds[3], event.OutcomeRetry, 5*time.Minute)

	now := h.clock.Now()
	sameDeliveries(t, "right after the attempts", h.due(now, 0), nil)
	sameDeliveries(t, "after 5 minutes", h.due(ds[3].NextAttemptAt, 0), []event.Delivery{ds[3]})
	sameDeliveries(t, "after 10 minutes", h.due(ds[0].NextAttemptAt, 0), []event.Delivery{ds[3], ds[0]})

	h.clock.Set(ds[0].NextAttemptAt)
	ds[3], _ = h.attempt(ds[3], event.OutcomeRetry, time.Hour)
	ds[0] = func() event.Delivery {
		d := ds[0]
		d.Attempts++
		d.State = event.DeliveryDead
		d.UpdatedAt = event.Timestamp(h.clock.Now())
		d.NextAttemptAt = time.Time{}
		a := event.Attempt{DeliveryID: d.ID, SubscriptionID: d.SubscriptionID, EventID: d.EventID, N: d.Attempts,
			At: d.UpdatedAt, StatusCode: 500, Error: "HTTP 500", Outcome: event.OutcomeRetry}
		if err := h.log().RecordAttempt(h.ctx, d, a); err != nil {
			t.Fatalf("RecordAttempt: %v", err)
		}
		return d
	}()
	far := h.clock.Now().Add(48 * time.Hour)
	sameDeliveries(t, "after a dead end and another retry", h.due(far, 0), []event.Delivery{ds[3]})
}

func testDueLimits(t *testing.T, h *harness) {
	h.schedule()
	sub := h.createSub("https://hooks.example.com/a")
	var all []event.Delivery
	for range event.MaxDueLimit + 3 {
		d := h.newDelivery(sub.ID)
		d.NextAttemptAt = d.NextAttemptAt.Add(time.Duration(len(all)) * time.Microsecond)
		h.claim(d)
		all = append(all, d)
	}
	at := all[len(all)-1].NextAttemptAt
	for _, tc := range []struct{ limit, want int }{
		{1, 1}, {10, 10}, {event.MaxDueLimit, event.MaxDueLimit},
		{0, event.DefaultDueLimit}, {-5, event.DefaultDueLimit}, {event.MaxDueLimit + 1, event.DefaultDueLimit},
	} {
		got := h.due(at, tc.limit)
		if len(got) != tc.want {
			t.Fatalf("DueDeliveries(limit %d): got %d, want %d", tc.limit, len(got), tc.want)
		}
		for i := range got {
			if got[i].ID != all[i].ID {
				t.Fatalf("DueDeliveries(limit %d) [%d]: got %s, want %s", tc.limit, i, got[i].ID, all[i].ID)
			}
		}
	}
}

// testDueGoneSubscription: deliveries of a deleted or disabled subscription
// are never due again, and end failed without an attempt.
func testDueGoneSubscription(t *testing.T, h *harness) {
	h.schedule()
	kept := h.createSub("https://hooks.example.com/kept")
	deleted := h.createSub("https://hooks.example.com/deleted")
	disabled := h.createSub("https://hooks.example.com/disabled")
	var keptD []event.Delivery
	var gone []event.Delivery
	for range 3 {
		d, _ := h.claim(h.newDelivery(kept.ID))
		keptD = append(keptD, d)
		for _, s := range []event.Subscription{deleted, disabled} {
			d, _ := h.claim(h.newDelivery(s.ID))
			gone = append(gone, d)
		}
		h.clock.Advance(time.Millisecond)
	}
	// One that never had a subscription at all.
	orphan, _ := h.claim(h.newDelivery(h.ids.New(h.clock.Now())))
	gone = append(gone, orphan)
	if err := h.subs().DeleteSubscription(h.ctx, deleted.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.subs().DisableSubscription(h.ctx, disabled.ID, "failing"); err != nil {
		t.Fatal(err)
	}
	now := h.clock.Now()
	sameDeliveries(t, "due, limit 2", h.due(now, 2), keptD[:2])
	sameDeliveries(t, "due", h.due(now, 0), keptD)
	sameDeliveries(t, "due again", h.due(now, 0), keptD)
	for _, d := range gone {
		got, created := h.claim(event.NewDelivery(d.EventID, d.SubscriptionID, now))
		if created || got.State != event.DeliveryFailed || got.Attempts != 0 || !got.NextAttemptAt.IsZero() {
			t.Fatalf("delivery of a gone subscription: created=%v state=%s attempts=%d next=%v; want an existing failed delivery with no attempts",
				created, got.State, got.Attempts, got.NextAttemptAt)
		}
		if a := h.attempts(d.SubscriptionID, 0); len(a) != 0 {
			t.Fatalf("delivery of a gone subscription: %d attempts recorded, want 0", len(a))
		}
	}
}

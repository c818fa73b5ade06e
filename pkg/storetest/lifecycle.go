package storetest

import (
	"testing"

	"github.com/triggershq/triggers/pkg/event"
)

var lifecycleTests = []test{
	{"Ping", testPing},
	{"CallsAfterCloseFail", testClose},
}

func testPing(t *testing.T, h *harness) {
	if err := h.s.Ping(h.ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// testClose: every call after Close returns an error, and none panics.
func testClose(t *testing.T, h *harness) {
	e := h.putN(1, "a", "b")[0]
	if err := h.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls := map[string]func() error{
		"Put":  func() error { _, _, err := h.s.Put(h.ctx, h.build(event.NewEvent{}, 0)); return err },
		"Get":  func() error { _, err := h.s.Get(h.ctx, e.ID); return err },
		"List": func() error { _, err := h.s.ListPending(h.ctx, event.ListQuery{}); return err },
		"Ack":  func() error { _, _, err := h.s.Ack(h.ctx, e.ID); return err },
		"Ping": func() error { return h.s.Ping(h.ctx) },
	}
	if f, ok := h.s.(event.ChangeFeed); ok {
		calls["Changes"] = func() error { _, err := f.Changes(h.ctx, 0, 10); return err }
		calls["Checkpoint"] = func() error { _, err := f.Checkpoint(h.ctx, "c"); return err }
		calls["SaveCheckpoint"] = func() error { return f.SaveCheckpoint(h.ctx, "c", 1) }
	}
	if ss, ok := h.s.(event.SubscriptionStore); ok {
		sub := h.newSub("https://hooks.example.com/closed")
		calls["CreateSubscription"] = func() error { return ss.CreateSubscription(h.ctx, sub) }
		calls["GetSubscription"] = func() error { _, err := ss.GetSubscription(h.ctx, sub.ID); return err }
		calls["ListSubscriptions"] = func() error { _, err := ss.ListSubscriptions(h.ctx); return err }
		calls["DeleteSubscription"] = func() error { return ss.DeleteSubscription(h.ctx, sub.ID) }
		calls["DisableSubscription"] = func() error { _, _, err := ss.DisableSubscription(h.ctx, sub.ID, "x"); return err }
	}
	if dl, ok := h.s.(event.DeliveryLog); ok {
		d := h.newDelivery(e.ID)
		a := event.Attempt{DeliveryID: d.ID, SubscriptionID: d.SubscriptionID, EventID: d.EventID, N: 1, At: d.CreatedAt, Outcome: event.OutcomeSuccess}
		calls["ClaimDelivery"] = func() error { _, _, err := dl.ClaimDelivery(h.ctx, d); return err }
		calls["RecordAttempt"] = func() error { return dl.RecordAttempt(h.ctx, d, a) }
		calls["ListAttempts"] = func() error { _, err := dl.ListAttempts(h.ctx, d.SubscriptionID, 10); return err }
	}
	if ds, ok := h.s.(event.DeliverySchedule); ok {
		calls["DueDeliveries"] = func() error { _, err := ds.DueDeliveries(h.ctx, h.clock.Now(), 10); return err }
	}
	if sw, ok := h.s.(Sweeper); ok {
		calls["SweepExpired"] = func() error { _, err := sw.SweepExpired(h.ctx); return err }
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(); err == nil {
				t.Fatalf("%s after Close: got nil error, want one", name)
			}
		})
	}
	_ = h.s.Close() // a second Close may fail but must not panic
}

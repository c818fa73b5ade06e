package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

var expiryTests = []test{
	{"ExpiredNeverReturned", testExpiredHidden},
	{"DeliveredExpired", testDeliveredExpired},
	{"SweepRemovesOnlyExpired", testSweep},
}

// testExpiredHidden interleaves short- and long-lived events so that
// expired ones sit inside later pages, then moves the clock to the short
// ones' expiry: before any sweep, no read returns them.
func testExpiredHidden(t *testing.T, h *harness) {
	var short, long []event.Event
	for i := range 30 {
		retention := 3 * time.Hour
		if i%3 != 0 {
			retention = time.Hour
		}
		e := h.put(event.NewEvent{Payload: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}, retention)
		if retention == time.Hour {
			short = append(short, e)
		} else {
			long = append(long, e)
		}
	}
	expiry := short[0].ExpiresAt

	h.clock.Set(expiry.Add(-time.Microsecond))
	if n := len(h.listAll(event.ListQuery{Limit: 4})); n != 30 {
		t.Fatalf("1µs before expiry: got %d pending, want 30", n)
	}
	h.get(short[0].ID)

	h.clock.Set(expiry)
	for _, e := range short {
		if _, err := h.s.Get(h.ctx, e.ID); event.ErrorCode(err) != event.CodeNotFound {
			t.Fatalf("Get(expired %s): got %v, want not found", e.ID, err)
		}
	}
	want := newestFirst(long)
	for _, q := range []event.ListQuery{{}, {Limit: 1}, {Limit: 4}, {Type: "order.created", Limit: 3}, {Source: "shop", Limit: 2}, {Type: "order.created", Source: "shop", Limit: 5}} {
		sameIDs(t, fmt.Sprintf("ListPending %+v", q), ids(h.listAll(q)), want)
	}
	for _, e := range short {
		if _, _, err := h.s.Ack(h.ctx, e.ID); event.ErrorCode(err) != event.CodeNotFound {
			t.Fatalf("Ack(expired %s): got %v, want not found", e.ID, err)
		}
	}
	for _, e := range long {
		h.get(e.ID)
	}
}

func testDeliveredExpired(t *testing.T, h *harness) {
	e := h.put(event.NewEvent{}, time.Hour)
	h.ack(e.ID)
	h.clock.Set(e.ExpiresAt)
	if _, err := h.s.Get(h.ctx, e.ID); event.ErrorCode(err) != event.CodeNotFound {
		t.Fatalf("Get(expired delivered): got %v, want not found", err)
	}
	if _, _, err := h.s.Ack(h.ctx, e.ID); event.ErrorCode(err) != event.CodeNotFound {
		t.Fatalf("Ack(expired delivered): got %v, want not found", err)
	}
}

// testSweep runs for stores that sweep: exactly the expired events go,
// pending or delivered, and their idempotency keys become free.
func testSweep(t *testing.T, h *harness) {
	sw := h.sweeper()
	var expiring, staying []event.Event
	for i := range 12 {
		retention := time.Hour
		if i%2 == 0 {
			retention = 2 * time.Hour
		}
		e := h.put(event.NewEvent{IdempotencyKey: fmt.Sprintf("sweep-%d", i)}, retention)
		if i%4 < 2 {
			h.ack(e.ID)
			e = h.get(e.ID)
		}
		if retention == time.Hour {
			expiring = append(expiring, e)
		} else {
			staying = append(staying, e)
		}
	}
	if n, err := sw.SweepExpired(h.ctx); err != nil || n != 0 {
		t.Fatalf("SweepExpired before expiry: got %d, %v; want 0, nil", n, err)
	}
	h.clock.Set(expiring[0].ExpiresAt)
	n, err := sw.SweepExpired(h.ctx)
	if err != nil || n != len(expiring) {
		t.Fatalf("SweepExpired: got %d, %v; want %d, nil", n, err, len(expiring))
	}
	if n, err := sw.SweepExpired(h.ctx); err != nil || n != 0 {
		t.Fatalf("second SweepExpired: got %d, %v; want 0, nil", n, err)
	}
	for _, e := range expiring {
		if _, err := h.s.Get(h.ctx, e.ID); event.ErrorCode(err) != event.CodeNotFound {
			t.Fatalf("Get(swept %s): got %v, want not found", e.ID, err)
		}
		// The key is free: a different body stores a new event.
		h.put(event.NewEvent{IdempotencyKey: e.IdempotencyKey, Payload: json.RawMessage(`{"new":true}`)}, 0)
	}
	for _, e := range staying {
		sameEvent(t, "Get(unexpired)", h.get(e.ID), e)
	}
	var pending []event.Event
	for _, e := range staying {
		if e.Status == event.StatusPending {
			pending = append(pending, e)
		}
	}
	listed := ids(h.listAll(event.ListQuery{}))
	sameIDs(t, "oldest pending after sweep", listed[len(listed)-len(pending):], newestFirst(pending))
}

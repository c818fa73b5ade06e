package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

var deliveryTests = []test{
	{"ClaimOnce", testClaimOnce},
	{"ClaimRace", testClaimRace},
	{"RecordAttemptSavesDelivery", testRecordSaves},
	{"RecordAttemptNeverGoesBack", testRecordNeverGoesBack},
	{"ListAttemptsNewestFirst", testListAttempts},
	{"ListAttemptsLimits", testListAttemptsLimits},
	{"ListAttemptsUnknown", testListAttemptsUnknown},
	{"RefusesInconsistentInput", testDeliveryInvalid},
	{"AttemptsExpire", testAttemptsExpire},
}

// log returns the store's DeliveryLog, skipping the test for stores
// without one.
func (h *harness) log() event.DeliveryLog {
	h.t.Helper()
	l, ok := h.s.(event.DeliveryLog)
	if !ok {
		h.t.Skip("the store has no event.DeliveryLog")
	}
	return l
}

// newDelivery returns a pending delivery of a fresh event id to subID, due
// now.
func (h *harness) newDelivery(subID string) event.Delivery {
	h.t.Helper()
	now := h.clock.Now()
	return event.NewDelivery(h.ids.New(now), subID, now)
}

func (h *harness) claim(d event.Delivery) (event.Delivery, bool) {
	h.t.Helper()
	stored, created, err := h.log().ClaimDelivery(h.ctx, d)
	if err != nil {
		h.t.Fatalf("ClaimDelivery(%s): %v", d.ID, err)
	}
	return stored, created
}

// attempt makes the next attempt of d at the clock's time with the given
// outcome, records it, and returns the delivery after it and the attempt.
// A retry is due again after `again`.
func (h *harness) attempt(d event.Delivery, outcome event.Outcome, again time.Duration) (event.Delivery, event.Attempt) {
	h.t.Helper()
	now := event.Timestamp(h.clock.Now())
	a := event.Attempt{
		DeliveryID:     d.ID,
		SubscriptionID: d.SubscriptionID,
		EventID:        d.EventID,
		N:              d.Attempts + 1,
		At:             now,
		Latency:        1234567 * time.Microsecond,
		Outcome:        outcome,
	}
	d.Attempts = a.N
	d.UpdatedAt = now
	d.NextAttemptAt = time.Time{}
	switch outcome {
	case event.OutcomeSuccess:
		a.StatusCode = 204
		d.State = event.DeliverySucceeded
	case event.OutcomeRetry:
		a.StatusCode = 503
		a.Error = "HTTP 503"
		d.State = event.DeliveryPending
		d.NextAttemptAt = now.Add(again)
	case event.OutcomeGone:
		a.StatusCode = 410
		a.Error = "HTTP 410: the subscription is deleted"
		d.State = event.DeliveryFailed
	default:
		a.Error = "connection refused"
		d.State = event.DeliveryFailed
	}
	if err := h.log().RecordAttempt(h.ctx, d, a); err != nil {
		h.t.Fatalf("RecordAttempt(%s #%d): %v", d.ID, a.N, err)
	}
	return d, a
}

func (h *harness) attempts(subID string, limit int) []event.Attempt {
	h.t.Helper()
	got, err := h.log().ListAttempts(h.ctx, subID, limit)
	if err != nil {
		h.t.Fatalf("ListAttempts(%s, %d): %v", subID, limit, err)
	}
	return got
}

// sameDelivery fails listing the fields in which got differs from want.
func sameDelivery(t *testing.T, what string, got, want event.Delivery) {
	t.Helper()
	var d differences
	d.check("ID", got.ID == want.ID, got.ID, want.ID)
	d.check("SubscriptionID", got.SubscriptionID == want.SubscriptionID, got.SubscriptionID, want.SubscriptionID)
	d.check("EventID", got.EventID == want.EventID, got.EventID, want.EventID)
	d.check("State", got.State == want.State, got.State, want.State)
	d.check("Attempts", got.Attempts == want.Attempts, got.Attempts, want.Attempts)
	d.time("NextAttemptAt", got.NextAttemptAt, want.NextAttemptAt)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.time("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	d.report(t, what)
}

// sameAttempts fails unless got and want hold equal attempts in order.
func sameAttempts(t *testing.T, what string, got, want []event.Attempt) {
	t.Helper()
	key := func(a event.Attempt) string { return fmt.Sprintf("%s#%d", a.DeliveryID, a.N) }
	if len(got) != len(want) {
		g, w := make([]string, len(got)), make([]string, len(want))
		for i := range got {
			g[i] = key(got[i])
		}
		for i := range want {
			w[i] = key(want[i])
		}
		t.Fatalf("%s: got %d attempts, want %d\ngot  %v\nwant %v", what, len(got), len(want), g, w)
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.At.Equal(w.At) || g.At.Location() != time.UTC {
			t.Fatalf("%s: attempt %d (%s) At: got %v, want %v (UTC)", what, i, key(w), g.At, w.At)
		}
		g.At = w.At
		if g != w {
			t.Fatalf("%s: attempt %d:\ngot  %+v\nwant %+v", what, i, g, w)
		}
	}
}

func reversed[T any](s []T) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func testClaimOnce(t *testing.T, h *harness) {
	d := h.newDelivery(h.ids.New(h.clock.Now()))
	got, created := h.claim(d)
	if !created {
		t.Fatal("first ClaimDelivery: created=false, want true")
	}
	sameDelivery(t, "first claim", got, d)

	// The same change record seen again later claims nothing and gets the
	// first delivery back unchanged.
	h.clock.Advance(time.Minute)
	again := event.NewDelivery(d.EventID, d.SubscriptionID, h.clock.Now())
	got, created = h.claim(again)
	if created {
		t.Fatal("second ClaimDelivery: created=true, want false")
	}
	sameDelivery(t, "second claim", got, d)

	// Another subscription's delivery of the same event is its own.
	other := event.NewDelivery(d.EventID, h.ids.New(h.clock.Now()), h.clock.Now())
	if _, created := h.claim(other); !created {
		t.Fatal("ClaimDelivery for another subscription: created=false, want true")
	}
}

// testClaimRace: 16 goroutines claim one delivery id; exactly one creates
// it and all agree on what is stored.
func testClaimRace(t *testing.T, h *harness) {
	const racers = 16
	sub := h.ids.New(h.clock.Now())
	for round := range 5 {
		evt := h.ids.New(h.clock.Now())
		results := race(racers, func(i int) (event.Delivery, bool, error) {
			// Each racer saw the change record at a slightly different time.
			d := event.NewDelivery(evt, sub, h.clock.Now().Add(time.Duration(i)*time.Millisecond))
			return h.log().ClaimDelivery(h.ctx, d)
		})
		won := results[oneWinner(t, fmt.Sprintf("round %d: racing ClaimDelivery", round), results)].v
		for _, r := range results {
			sameDelivery(t, fmt.Sprintf("round %d: racing claim", round), r.v, won)
		}
		h.clock.Advance(time.Second)
	}
}

// testRecordSaves: RecordAttempt stores the delivery's new state, which a
// later claim of the same delivery returns.
func testRecordSaves(t *testing.T, h *harness) {
	sub := h.ids.New(h.clock.Now())
	d, _ := h.claim(h.newDelivery(sub))
	h.clock.Advance(time.Second)
	d, _ = h.attempt(d, event.OutcomeRetry, 30*time.Second)
	got, created := h.claim(event.NewDelivery(d.EventID, sub, h.clock.Now()))
	if created {
		t.Fatal("claim after an attempt: created=true, want false")
	}
	sameDelivery(t, "after a retryable attempt", got, d)

	h.clock.Advance(31 * time.Second)
	d, _ = h.attempt(d, event.OutcomeSuccess, 0)
	got, _ = h.claim(event.NewDelivery(d.EventID, sub, h.clock.Now()))
	sameDelivery(t, "after a successful attempt", got, d)
	if got.Attempts != 2 || got.State != event.DeliverySucceeded || !got.NextAttemptAt.IsZero() {
		t.Fatalf("final delivery: %+v", got)
	}
}

// testRecordNeverGoesBack: two copies of one attempt (a retry-queue message
// delivered twice and handled at once) record in either order, and an
// older attempt may record after a newer one. Every attempt is listed, but
// the delivery never moves back: a copy's retry does not reopen a delivery
// the other copy ended, and a late older attempt changes nothing.
func testRecordNeverGoesBack(t *testing.T, h *harness) {
	sub := h.ids.New(h.clock.Now())
	stored := func(h *harness, d event.Delivery) event.Delivery {
		h.t.Helper()
		got, _ := h.claim(event.NewDelivery(d.EventID, sub, h.clock.Now()))
		return got
	}
	t.Run("success then the copy's retry", func(t *testing.T) {
		h := h.with(t)
		d, _ := h.claim(h.newDelivery(sub))
		won, _ := h.attempt(d, event.OutcomeSuccess, 0)
		h.clock.Advance(time.Second)
		h.attempt(d, event.OutcomeRetry, time.Minute) // the same attempt number
		sameDelivery(t, "after both copies", stored(h, d), won)
	})
	t.Run("retry then the copy's success", func(t *testing.T) {
		h := h.with(t)
		d, _ := h.claim(h.newDelivery(sub))
		h.attempt(d, event.OutcomeRetry, time.Minute)
		h.clock.Advance(time.Second)
		won, _ := h.attempt(d, event.OutcomeSuccess, 0)
		sameDelivery(t, "after both copies", stored(h, d), won)
	})
	t.Run("an older attempt recorded late", func(t *testing.T) {
		h := h.with(t)
		d, _ := h.claim(h.newDelivery(sub))
		first, _ := h.attempt(d, event.OutcomeRetry, time.Minute)
		h.clock.Advance(time.Minute)
		second, _ := h.attempt(first, event.OutcomeRetry, time.Minute)
		h.clock.Advance(time.Second)
		h.attempt(d, event.OutcomeFailed, 0) // attempt 1 again, recorded last
		sameDelivery(t, "after the late attempt", stored(h, d), second)
	})
	// 2 + 2 + 3 attempts, all of them listed.
	if got := h.attempts(sub, 0); len(got) != 7 {
		t.Fatalf("ListAttempts: got %d attempts, want 7 (every attempt is recorded)", len(got))
	}
}

// testListAttempts: attempts come back newest first with every field, and
// never mixed with another subscription's.
func testListAttempts(t *testing.T, h *harness) {
	subA, subB := h.ids.New(h.clock.Now()), h.ids.New(h.clock.Now())
	var wantA, wantB []event.Attempt
	da1, _ := h.claim(h.newDelivery(subA))
	db1, _ := h.claim(h.newDelivery(subB))
	da2, _ := h.claim(h.newDelivery(subA))
	outcomes := []event.Outcome{event.OutcomeRetry, event.OutcomeRetry, event.OutcomeFailed}
	for i, o := range outcomes {
		h.clock.Advance(time.Duration(i+1) * time.Second)
		var a event.Attempt
		da1, a = h.attempt(da1, o, time.Minute)
		wantA = append(wantA, a)
		h.clock.Advance(time.Millisecond)
		db1, a = h.attempt(db1, event.OutcomeRetry, time.Minute)
		wantB = append(wantB, a)
		if i == 1 {
			h.clock.Advance(time.Microsecond)
			da2, a = h.attempt(da2, event.OutcomeGone, 0)
			wantA = append(wantA, a)
		}
	}
	h.clock.Advance(time.Second)
	_, a := h.attempt(db1, event.OutcomeSuccess, 0)
	wantB = append(wantB, a)

	sameAttempts(t, "ListAttempts(A)", h.attempts(subA, 0), reversed(wantA))
	sameAttempts(t, "ListAttempts(B)", h.attempts(subB, 100), reversed(wantB))
	sameAttempts(t, "ListAttempts(A, 2)", h.attempts(subA, 2), reversed(wantA)[:2])
	// Upper-case ids name the same subscription.
	sameAttempts(t, "ListAttempts(upper-case A)", h.attempts(strings.ToUpper(subA), 1), reversed(wantA)[:1])
}

// testListAttemptsLimits records more than MaxListLimit attempts and checks
// that every out-of-range limit means MaxListLimit.
func testListAttemptsLimits(t *testing.T, h *harness) {
	sub := h.ids.New(h.clock.Now())
	var all []event.Attempt
	d, _ := h.claim(h.newDelivery(sub))
	for range event.MaxListLimit + 5 {
		h.clock.Advance(time.Second)
		if d.State != event.DeliveryPending { // a fresh delivery every 9 attempts
			d, _ = h.claim(h.newDelivery(sub))
		}
		o := event.OutcomeRetry
		if d.Attempts == 8 {
			o = event.OutcomeFailed
		}
		var a event.Attempt
		d, a = h.attempt(d, o, time.Second)
		all = append(all, a)
	}
	newest := reversed(all)
	for _, tc := range []struct {
		limit, want int
	}{
		{1, 1}, {7, 7}, {event.MaxListLimit, event.MaxListLimit},
		{0, event.MaxListLimit}, {-1, event.MaxListLimit}, {event.MaxListLimit + 1, event.MaxListLimit}, {1 << 30, event.MaxListLimit},
	} {
		sameAttempts(t, fmt.Sprintf("ListAttempts(limit %d)", tc.limit), h.attempts(sub, tc.limit), newest[:tc.want])
	}
}

func testListAttemptsUnknown(t *testing.T, h *harness) {
	sub := h.ids.New(h.clock.Now())
	d, _ := h.claim(h.newDelivery(sub))
	h.attempt(d, event.OutcomeSuccess, 0)
	ids := unknownIDs(h)
	ids["prefix of a known id"] = sub[:20]
	for name, id := range ids {
		t.Run(name, func(t *testing.T) {
			got, err := h.log().ListAttempts(h.ctx, id, 10)
			if err != nil {
				t.Fatalf("ListAttempts: got error %v, want an empty slice", err)
			}
			if len(got) != 0 {
				t.Fatalf("ListAttempts: got %d attempts, want 0", len(got))
			}
		})
	}
}

// testDeliveryInvalid: a delivery whose id does not match its event and
// subscription, or an attempt that is not of the delivery saved with it,
// is refused and nothing is written.
func testDeliveryInvalid(t *testing.T, h *harness) {
	sub := h.ids.New(h.clock.Now())
	good := h.newDelivery(sub)
	claims := map[string]func(*event.Delivery){
		"id of another pair": func(d *event.Delivery) { d.ID = event.DeliveryID(d.EventID, h.ids.New(h.clock.Now())) },
		"malformed id":       func(d *event.Delivery) { d.ID = "msg_nope" },
		"malformed event id": func(d *event.Delivery) { d.EventID = "nope"; d.ID = event.DeliveryID(d.EventID, d.SubscriptionID) },
		"malformed sub id": func(d *event.Delivery) {
			d.SubscriptionID = "nope"
			d.ID = event.DeliveryID(d.EventID, d.SubscriptionID)
		},
		"unknown state": func(d *event.Delivery) { d.State = "lost" },
	}
	for name, edit := range claims {
		t.Run("claim/"+name, func(t *testing.T) {
			d := good
			edit(&d)
			_, _, err := h.log().ClaimDelivery(h.ctx, d)
			wantCode(t, err, event.CodeInvalid)
		})
	}
	if _, created := h.claim(good); !created {
		t.Fatal("the refused claims stored something under the good delivery's id")
	}
	h.clock.Advance(time.Second)
	records := map[string]func(*event.Delivery, *event.Attempt){
		"attempt of another delivery": func(_ *event.Delivery, a *event.Attempt) {
			a.DeliveryID = event.DeliveryID(a.EventID, h.ids.New(h.clock.Now()))
		},
		"attempt of another sub":   func(_ *event.Delivery, a *event.Attempt) { a.SubscriptionID = h.ids.New(h.clock.Now()) },
		"attempt of another event": func(_ *event.Delivery, a *event.Attempt) { a.EventID = h.ids.New(h.clock.Now()) },
		"attempt number 0":         func(_ *event.Delivery, a *event.Attempt) { a.N = 0 },
		"no attempt time":          func(_ *event.Delivery, a *event.Attempt) { a.At = time.Time{} },
		"unknown outcome":          func(_ *event.Delivery, a *event.Attempt) { a.Outcome = "maybe" },
		"delivery id mismatch":     func(d *event.Delivery, _ *event.Attempt) { d.ID = "msg_nope" },
	}
	for name, edit := range records {
		t.Run("record/"+name, func(t *testing.T) {
			d := good
			d.Attempts, d.UpdatedAt = 1, event.Timestamp(h.clock.Now())
			a := event.Attempt{DeliveryID: d.ID, SubscriptionID: sub, EventID: d.EventID, N: 1,
				At: d.UpdatedAt, StatusCode: 200, Outcome: event.OutcomeSuccess}
			d.State = event.DeliverySucceeded
			edit(&d, &a)
			wantCode(t, h.log().RecordAttempt(h.ctx, d, a), event.CodeInvalid)
		})
	}
	if got := h.attempts(sub, 0); len(got) != 0 {
		t.Fatalf("after refused records: got %d attempts, want 0", len(got))
	}
	stored, _ := h.claim(good)
	sameDelivery(t, "delivery after refused records", stored, good)
}

// testAttemptsExpire: attempts are listed until DeliveryRetention has
// passed since they were made, and never after, swept or not.
func testAttemptsExpire(t *testing.T, h *harness) {
	sub := h.ids.New(h.clock.Now())
	d, _ := h.claim(h.newDelivery(sub))
	var old []event.Attempt
	for range 3 {
		var a event.Attempt
		d, a = h.attempt(d, event.OutcomeRetry, time.Hour)
		old = append(old, a)
		h.clock.Advance(time.Hour)
	}
	h.clock.Set(old[0].At.Add(DeliveryRetention - 30*time.Minute))
	fresh, _ := h.claim(h.newDelivery(sub))
	_, newer := h.attempt(fresh, event.OutcomeSuccess, 0)

	h.clock.Set(old[0].At.Add(DeliveryRetention - time.Microsecond))
	sameAttempts(t, "1µs before the first expires", h.attempts(sub, 0), []event.Attempt{newer, old[2], old[1], old[0]})
	h.clock.Set(old[0].At.Add(DeliveryRetention))
	sameAttempts(t, "when the first expires", h.attempts(sub, 0), []event.Attempt{newer, old[2], old[1]})
	sameAttempts(t, "when the first expires, limit 2", h.attempts(sub, 2), []event.Attempt{newer, old[2]})
	h.clock.Set(old[2].At.Add(DeliveryRetention))
	sameAttempts(t, "when all old ones expired", h.attempts(sub, 0), []event.Attempt{newer})
	if sw, ok := h.s.(Sweeper); ok {
		if _, err := sw.SweepExpired(h.ctx); err != nil {
			t.Fatalf("SweepExpired: %v", err)
		}
		sameAttempts(t, "after a sweep", h.attempts(sub, 0), []event.Attempt{newer})
		h.clock.Set(newer.At.Add(DeliveryRetention))
		if _, err := sw.SweepExpired(h.ctx); err != nil {
			t.Fatalf("SweepExpired: %v", err)
		}
		sameAttempts(t, "after everything expired and was swept", h.attempts(sub, 0), nil)
	}
}

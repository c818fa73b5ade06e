package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

// Config is what the suite asks of the store it opens.
type Config struct {
	// Now is the clock the store must read for expiry checks, ack times and
	// change times, instead of time.Now.
	Now func() time.Time
	// DeliveryRetention is how long a store that implements
	// event.DeliveryLog must keep deliveries and attempts (it is
	// DeliveryRetention, set by the suite, shorter than the default so the
	// expiry tests read well). Stores without a delivery log ignore it.
	DeliveryRetention time.Duration
}

// DeliveryRetention is the retention the suite asks delivery logs for.
const DeliveryRetention = 72 * time.Hour

// Sweeper is implemented by stores that remove expired events themselves
// (the embedded store; DynamoDB's TTL does it for the other). SweepExpired
// removes every event whose ExpiresAt is at or before the store's Now, and
// for a store that is also an event.ChangeFeed writes one ChangeExpired per
// removed event. It returns how many it removed.
type Sweeper interface {
	SweepExpired(ctx context.Context) (removed int, err error)
}

// Opener makes a fresh, empty store for one test; see the package comment.
type Opener func(t *testing.T, cfg Config) event.Store

// Start is where every test's clock starts. It has nanoseconds, so a store
// that does not truncate the times it sets (UpdatedAt on Ack, change times)
// to microseconds is caught.
var Start = time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.UTC)

// Run runs the whole suite against the stores open makes.
func Run(t *testing.T, open Opener) {
	t.Helper()
	groups := []struct {
		name  string
		tests []test
	}{
		{"Put", putTests},
		{"Get", getTests},
		{"ListPending", listTests},
		{"Ack", ackTests},
		{"Expiry", expiryTests},
		{"Lifecycle", lifecycleTests},
		{"ChangeFeed", feedTests},
		{"Subscriptions", subscriptionTests},
		{"Deliveries", deliveryTests},
		{"Schedule", scheduleTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, setup(t, open))
				})
			}
		})
	}
}

type test struct {
	name string
	run  func(t *testing.T, h *harness)
}

// harness is one test's store, clock and id source.
type harness struct {
	t     *testing.T
	s     event.Store
	clock *Clock
	ids   *event.IDs
	ctx   context.Context
}

// with returns the harness for a subtest, so that its failures stop the
// subtest rather than its parent.
func (h *harness) with(t *testing.T) *harness {
	c := *h
	c.t = t
	return &c
}

func setup(t *testing.T, open Opener) *harness {
	t.Helper()
	clock := NewClock(Start)
	s := open(t, Config{Now: clock.Now, DeliveryRetention: DeliveryRetention})
	if s == nil {
		t.Fatal("the factory returned a nil store")
	}
	return &harness{t: t, s: s, clock: clock, ids: new(event.IDs), ctx: t.Context()}
}

// feed returns the store's change feed, skipping the test for stores
// without one, and fails if such a store has no Sweeper.
func (h *harness) feed() (event.ChangeFeed, Sweeper) {
	h.t.Helper()
	f, ok := h.s.(event.ChangeFeed)
	if !ok {
		h.t.Skip("the store has no event.ChangeFeed")
	}
	sw, ok := h.s.(Sweeper)
	if !ok {
		h.t.Fatal("a store with an event.ChangeFeed must implement storetest.Sweeper")
	}
	return f, sw
}

func (h *harness) sweeper() Sweeper {
	h.t.Helper()
	sw, ok := h.s.(Sweeper)
	if !ok {
		h.t.Skip("the store does not implement storetest.Sweeper")
	}
	return sw
}

// build returns a new pending event as the HTTP layer would make it: id and
// times from the test clock, retention 0 meaning the default.
func (h *harness) build(n event.NewEvent, retention time.Duration) event.Event {
	h.t.Helper()
	if n.Type == "" {
		n.Type = "order.created"
	}
	if n.Source == "" {
		n.Source = "shop"
	}
	if n.Payload == nil {
		n.Payload = json.RawMessage(`{"n":1}`)
	}
	if err := n.Validate(); err != nil {
		h.t.Fatalf("the suite built invalid input: %v", err)
	}
	now := h.clock.Now()
	return n.Build(h.ids.New(now), now, retention)
}

// put stores a new event and fails the test unless it is stored fresh.
func (h *harness) put(n event.NewEvent, retention time.Duration) event.Event {
	h.t.Helper()
	return h.putEvent(h.build(n, retention))
}

func (h *harness) putEvent(e event.Event) event.Event {
	h.t.Helper()
	got, replayed, err := h.s.Put(h.ctx, e)
	if err != nil {
		h.t.Fatalf("Put(%s): %v", e.ID, err)
	}
	if replayed {
		h.t.Fatalf("Put(%s) replayed = true, want false", e.ID)
	}
	return got
}

// putN stores n events of one type and source, oldest first.
func (h *harness) putN(n int, typ, source string) []event.Event {
	h.t.Helper()
	out := make([]event.Event, n)
	for i := range out {
		out[i] = h.put(event.NewEvent{Type: typ, Source: source, Payload: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}, 0)
	}
	return out
}

func (h *harness) get(id string) event.Event {
	h.t.Helper()
	e, err := h.s.Get(h.ctx, id)
	if err != nil {
		h.t.Fatalf("Get(%s): %v", id, err)
	}
	return e
}

func (h *harness) list(q event.ListQuery) event.Page {
	h.t.Helper()
	p, err := h.s.ListPending(h.ctx, q)
	if err != nil {
		h.t.Fatalf("ListPending(%+v): %v", q, err)
	}
	return p
}

// listAll follows Next from the first page to the end and returns every
// event in order. It fails if the walk does not end within a generous
// number of pages.
func (h *harness) listAll(q event.ListQuery) []event.Event {
	h.t.Helper()
	var all []event.Event
	for pages := 0; ; pages++ {
		if pages > 100_000 {
			h.t.Fatalf("ListPending(%+v) did not reach the end after %d pages", q, pages)
		}
		p := h.list(q)
		all = append(all, p.Events...)
		if p.Next == "" {
			return all
		}
		q.Cursor = p.Next
	}
}

func (h *harness) ack(id string) (event.Event, bool) {
	h.t.Helper()
	e, transitioned, err := h.s.Ack(h.ctx, id)
	if err != nil {
		h.t.Fatalf("Ack(%s): %v", id, err)
	}
	return e, transitioned
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, err error, code event.Code) {
	t.Helper()
	if got := event.ErrorCode(err); got != code {
		t.Fatalf("error code: got %q (%v), want %q", got, err, code)
	}
}

// sameEvent fails listing every field in which got differs from want. Times
// must be equal instants in UTC.
func sameEvent(t *testing.T, what string, got, want event.Event) {
	t.Helper()
	var d differences
	d.check("ID", got.ID == want.ID, got.ID, want.ID)
	d.check("Type", got.Type == want.Type, got.Type, want.Type)
	d.check("Source", got.Source == want.Source, got.Source, want.Source)
	d.check("Payload", bytes.Equal(got.Payload, want.Payload), truncate(got.Payload), truncate(want.Payload))
	d.check("Status", got.Status == want.Status, got.Status, want.Status)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.time("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	d.time("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	d.check("IdempotencyKey", got.IdempotencyKey == want.IdempotencyKey, got.IdempotencyKey, want.IdempotencyKey)
	d.check("Fingerprint", got.Fingerprint == want.Fingerprint, got.Fingerprint, want.Fingerprint)
	d.report(t, what)
}

// raced is one racer's result in a race.
type raced[T any] struct {
	v   T
	won bool // the call that made the transition: created, transitioned, disabled...
	err error
}

// race calls fn from n goroutines at once and returns their results, by
// racer (fn gets its racer's number).
func race[T any](n int, fn func(i int) (T, bool, error)) []raced[T] {
	results := make([]raced[T], n)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			v, won, err := fn(i)
			results[i] = raced[T]{v, won, err}
		})
	}
	wg.Wait()
	return results
}

// oneWinner fails the test unless every racer succeeded and exactly one
// won, and returns the winner's number.
func oneWinner[T any](t *testing.T, what string, results []raced[T]) int {
	t.Helper()
	winner := -1
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("%s: racer %d: %v", what, i, r.err)
		}
		if !r.won {
			continue
		}
		if winner >= 0 {
			t.Fatalf("%s: racers %d and %d both won, want exactly one", what, winner, i)
		}
		winner = i
	}
	if winner < 0 {
		t.Fatalf("%s: no racer won, want exactly one", what)
	}
	return winner
}

// differences collects the fields in which one stored value differs from
// what the test wants, so a failure lists all of them at once.
type differences []string

// check notes a field unless equal.
func (d *differences) check(field string, equal bool, got, want any) {
	if !equal {
		*d = append(*d, fmt.Sprintf("%s: got %v, want %v", field, got, want))
	}
}

// time notes a stored time that is not want's instant, or not in UTC.
func (d *differences) time(field string, got, want time.Time) {
	d.check(field, got.Equal(want), got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	d.check(field+" location", got.Location() == time.UTC, got.Location(), time.UTC)
}

// report fails t with one error per difference.
func (d differences) report(t *testing.T, what string) {
	t.Helper()
	for _, diff := range d {
		t.Errorf("%s: %s", what, diff)
	}
}

func truncate(b []byte) string {
	if len(b) > 80 {
		return fmt.Sprintf("%q… (%d bytes)", b[:80], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// ids returns the ids of events, in order.
func ids(events []event.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

// newestFirst returns the ids of events in reverse order.
func newestFirst(events []event.Event) []string {
	out := ids(events)
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func sameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d ids, want %d\ngot  %v\nwant %v", what, len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: id %d: got %s, want %s\ngot  %v\nwant %v", what, i, got[i], want[i], got, want)
		}
	}
}

// errorsAs is errors.As for *event.Error, failing loudly if err has none.
func errorsAs(err error, target **event.Error) {
	if !errors.As(err, target) {
		*target = &event.Error{}
	}
}

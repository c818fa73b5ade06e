package stream_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/stream"
)

func TestDroppedDeliveriesRecordWhy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(w *world, sub event.Subscription)
		want  string
	}{
		{"subscription deleted", func(w *world, sub event.Subscription) {
			if err := w.store.DeleteSubscription(context.Background(), sub.ID); err != nil {
				t.Fatal(err)
			}
		}, "not attempted: the subscription was deleted"},
		{"subscription disabled", func(w *world, sub event.Subscription) {
			if _, _, err := w.store.DisableSubscription(context.Background(), sub.ID, "x"); err != nil {
				t.Fatal(err)
			}
		}, "not attempted: the subscription is disabled"},
		{"event expired", func(w *world, _ event.Subscription) {
			w.clock.Advance(event.DefaultRetention + time.Minute)
		}, "not attempted: the event expired before it could be delivered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOptions{noLoop: true})
			rc := newReceiver(t, always(200))
			sub := w.subscribe(rc.URL())
			e := w.publish("order.created", `{}`)
			d, _, err := w.store.ClaimDelivery(context.Background(), event.NewDelivery(e.ID, sub.ID, w.clock.Now()))
			if err != nil {
				t.Fatal(err)
			}
			tt.setup(w, sub)
			next, err := w.deliverer.Attempt(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			if next.State != event.DeliveryFailed || next.Attempts != 1 {
				t.Errorf("got %s after %d, want failed after 1", next.State, next.Attempts)
			}
			as := w.attempts(sub.ID)
			if len(as) != 1 || as[0].Error != tt.want || as[0].Outcome != event.OutcomeFailed {
				t.Errorf("attempts: got %+v, want one failed with %q", as, tt.want)
			}
			if n := len(rc.requests()); n != 0 {
				t.Errorf("got %d requests, want none", n)
			}
		})
	}
}

func TestAttemptOfFinishedDeliveryDoesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{noLoop: true})
	d := event.Delivery{ID: "msg_x", State: event.DeliverySucceeded}
	got, err := w.deliverer.Attempt(context.Background(), d)
	if err != nil || got != d {
		t.Errorf("got %+v %v, want it unchanged", got, err)
	}
}

// flakyHandoff fails its first n calls.
type flakyHandoff struct {
	mu    sync.Mutex
	fails int
	calls int
	next  stream.Handoff
}

func (f *flakyHandoff) handoff(ctx context.Context, ds []event.Delivery) error {
	f.mu.Lock()
	f.calls++
	fail := f.calls <= f.fails
	f.mu.Unlock()
	if fail {
		return errors.New("queue unavailable")
	}
	return f.next(ctx, ds)
}

func TestFailedHandoffIsHandledAgain(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{noLoop: true})
	rc := newReceiver(t, always(200))
	sub := w.subscribe(rc.URL())
	e := w.publish("order.created", `{}`)
	var got [][]event.Delivery
	f := &flakyHandoff{fails: 1, next: func(_ context.Context, ds []event.Delivery) error { got = append(got, ds); return nil }}
	c, err := stream.NewConsumer(stream.ConsumerOptions{Subscriptions: w.store, Deliveries: w.store, Handoff: f.handoff, Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ch := event.Change{Kind: event.ChangeCreated, Event: e}
	if err := c.Handle(context.Background(), ch); err == nil {
		t.Fatal("got no error from a failed handoff")
	}
	if err := c.Handle(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0]) != 1 || got[0][0].ID != event.DeliveryID(e.ID, sub.ID) {
		t.Fatalf("handed over %v, want the claimed delivery again after the failure", got)
	}
	// Once attempted, the delivery is in the retry flow: a replay does not
	// hand it over again.
	if _, err := w.deliverer.Attempt(context.Background(), got[0][0]); err != nil {
		t.Fatal(err)
	}
	if err := c.Handle(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Errorf("a replay after the attempt handed over %d more batches, want 0", len(got)-1)
	}
}

// recordingFeed handles changes into a list, failing chosen ones a few
// times.
type recording struct {
	mu      sync.Mutex
	handled []string
	failing map[string]int
}

func (r *recording) handle(_ context.Context, ch event.Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failing[ch.Event.ID] > 0 {
		r.failing[ch.Event.ID]--
		return errors.New("store busy")
	}
	r.handled = append(r.handled, string(ch.Kind)+" "+ch.Event.ID)
	return nil
}

func (r *recording) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.handled...)
}

func TestWorkerResumesFromItsCheckpointInOrder(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{noLoop: true})
	var ids []string
	for range 5 {
		ids = append(ids, w.publish("order.created", `{}`).ID)
	}
	rec := &recording{failing: map[string]int{ids[2]: 2}}
	run := func(want int) {
		t.Helper()
		// One at a time: this test pins feed order and in-place retries;
		// TestWorkerKeepsEachEventsOrder covers handling in parallel.
		wk, err := stream.NewWorker(stream.WorkerOptions{Feed: w.store, Handle: rec.handle, Name: "t", Batch: 2, Parallel: 1, Poll: time.Millisecond, MaxBackoff: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- wk.Run(ctx) }()
		w.eventually("the worker to handle the changes", 0, func() bool { return len(rec.list()) == want })
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	run(5)
	for i, id := range ids {
		if got := rec.list()[i]; got != "created "+id {
			t.Errorf("change %d: got %q, want created %s (feed order, the failing one retried in place)", i, got, id)
		}
	}
	if _, _, err := w.store.Ack(context.Background(), ids[0]); err != nil {
		t.Fatal(err)
	}
	run(6) // a new worker under the same name starts after the checkpoint
	if got := rec.list()[5]; got != "delivered "+ids[0] {
		t.Errorf("after restart: got %q, want only the new change", got)
	}
}

// TestWorkerKeepsEachEventsOrder: handled in parallel, every change is
// handled, each event's changes in feed order, and the checkpoint ends at
// the last change; a change that fails is retried, and what ran after it
// may run again (at least once), never before it.
func TestWorkerKeepsEachEventsOrder(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{noLoop: true})
	var ids []string
	for range 40 {
		ids = append(ids, w.publish("order.created", `{}`).ID)
	}
	for _, id := range ids[:20] {
		if _, _, err := w.store.Ack(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	rec := &recording{failing: map[string]int{ids[7]: 1}}
	wk, err := stream.NewWorker(stream.WorkerOptions{Feed: w.store, Handle: rec.handle, Name: "p", Batch: 100, Parallel: 8, Poll: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- wk.Run(ctx) }()
	handledAll := func() bool {
		seen := map[string]bool{}
		for _, h := range rec.list() {
			seen[h] = true
		}
		for i, id := range ids {
			if !seen["created "+id] || (i < 20 && !seen["delivered "+id]) {
				return false
			}
		}
		return true
	}
	w.eventually("every change to be handled", 0, handledAll)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	first := map[string]int{}
	for i, h := range rec.list() {
		if _, ok := first[h]; !ok {
			first[h] = i
		}
	}
	for _, id := range ids[:20] {
		if first["delivered "+id] < first["created "+id] {
			t.Errorf("event %s: delivered handled before created", id)
		}
	}
	cp, err := w.store.Checkpoint(context.Background(), "p")
	if err != nil {
		t.Fatal(err)
	}
	changes, err := w.store.Changes(context.Background(), cp, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 0 {
		t.Errorf("checkpoint %d leaves %d changes unhandled", cp, len(changes))
	}
}

// TestDisablingIsCountedOnce: two deliveries to one dead target end at the
// same moment (a burst of events retried on the same schedule); both
// disable the subscription, which is disabled, and counted, once.
func TestDisablingIsCountedOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{noLoop: true, policy: tinyPolicy(2)})
	both := make(chan struct{})
	var arrived atomic.Int32
	rc := newReceiver(t, func(int, *http.Request, http.ResponseWriter) int {
		if arrived.Add(1) == 2 {
			close(both)
		}
		// Hold the first answer until the second request is in, so both
		// attempts are past their subscription check. The wait only makes
		// the overlap certain; passing never depends on it.
		select {
		case <-both:
		case <-time.After(time.Second):
		}
		return http.StatusServiceUnavailable
	})
	sub := w.subscribe(rc.URL())
	var wg sync.WaitGroup
	for range 2 {
		e := w.publish("order.created", `{}`)
		d, _, err := w.store.ClaimDelivery(context.Background(), event.NewDelivery(e.ID, sub.ID, w.clock.Now()))
		if err != nil {
			t.Fatal(err)
		}
		d.Attempts = 1 // the last attempt is next
		wg.Go(func() {
			if next, err := w.deliverer.Attempt(context.Background(), d); err != nil || next.State != event.DeliveryDead {
				t.Errorf("got %s, %v, want the delivery dead", next.State, err)
			}
		})
	}
	wg.Wait()
	got, err := w.store.GetSubscription(context.Background(), sub.ID)
	if err != nil || got.Active() {
		t.Fatalf("got %v, %v, want the subscription disabled", got.Status, err)
	}
	if n := scrapeValue(t, w.metrics, "triggers_subscriptions_disabled_total"); n != 1 {
		t.Errorf("subscriptions disabled: got %v, want 1", n)
	}
	if n := scrapeValue(t, w.metrics, "triggers_webhook_dead_lettered_total"); n != 2 {
		t.Errorf("dead lettered: got %v, want 2", n)
	}
}

// unsavedFeed is a change feed whose checkpoints cannot be saved (a full
// disk refuses writes while reads go on), counting its reads.
type unsavedFeed struct {
	event.ChangeFeed
	reads atomic.Int32
}

func (f *unsavedFeed) Changes(ctx context.Context, after uint64, limit int) ([]event.SequencedChange, error) {
	f.reads.Add(1)
	return f.ChangeFeed.Changes(ctx, after, limit)
}

func (f *unsavedFeed) SaveCheckpoint(context.Context, string, uint64) error {
	return errors.New("no space left on device")
}

// TestWorkerGoesOnWhenCheckpointsFail: a checkpoint that cannot be saved
// does not make the worker hand the same changes over again and again (at
// full speed, counting their metrics each time); it goes on from where it
// got, and the durable checkpoint catches up with the next save.
func TestWorkerGoesOnWhenCheckpointsFail(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{noLoop: true})
	for range 3 {
		w.publish("order.created", `{}`)
	}
	rec := &recording{}
	feed := &unsavedFeed{ChangeFeed: w.store}
	wk, err := stream.NewWorker(stream.WorkerOptions{Feed: feed, Handle: rec.handle, Name: "t", Poll: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- wk.Run(ctx) }()
	w.eventually("the worker to read the feed again after handling it", 0, func() bool {
		return len(rec.list()) >= 3 && feed.reads.Load() >= 4
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := len(rec.list()); got != 3 {
		t.Errorf("got %d changes handled, want the 3 changes once each", got)
	}
}

func TestSchedulerFinishesInFlightAttemptsOnShutdown(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{policy: tinyPolicy(3)})
	h := newHangingReceiver(t)
	sub := w.subscribe(h.URL())
	h.setSecret(sub.Secret)
	w.publish("order.created", `{}`)
	w.eventually("the attempt to be in flight", 0, func() bool { return len(h.requests()) == 1 })

	stopped := make(chan struct{})
	go func() { w.stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("the scheduler stopped with an attempt in flight")
	case <-time.After(50 * time.Millisecond): // only proves the ordering when it fails; never a pass condition
	}
	h.Release()
	<-stopped
	if got := h.accepted(); len(got) != 1 {
		t.Errorf("accepted: got %v, want the in-flight delivery answered", got)
	}
}

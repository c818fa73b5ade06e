package stream

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

// WorkerOptions configure a Worker.
type WorkerOptions struct {
	// Feed is the change feed (required).
	Feed event.ChangeFeed
	// Handle handles one change (required): Consumer.Handle.
	Handle func(ctx context.Context, ch event.Change) error
	// Name is the checkpoint's consumer name. Empty means "stream".
	Name string
	// Batch is how many changes one read takes. Zero means 100.
	Batch int
	// Parallel is how many changes are handled at once. Changes of one
	// event are always handled in feed order; changes of different events
	// are independent, and handling them together lets their delivery
	// claims share the store's group commits instead of paying one fsync
	// each. Zero means 16.
	Parallel int
	// Poll is how long the worker sleeps when the feed is empty and
	// nothing woke it. Zero means 1s. Writers in the same process call
	// Wake, so new changes are normally seen at once.
	Poll time.Duration
	// MaxBackoff caps the wait before a failed change is tried again.
	// Zero means 30s.
	MaxBackoff time.Duration
	// Logger receives failures. Nil discards.
	Logger *slog.Logger
}

// Worker reads the embedded store's change feed from its durable
// checkpoint and hands each change to Handle, in feed order: read a batch,
// handle each change, save the checkpoint. Delivery to Handle is at least
// once: a crash after handling and before saving hands the same changes
// over again, which Consumer.Handle makes harmless.
//
// A change that fails is retried, with a growing wait, until it succeeds:
// the single binary's changes fail only when its own store does, and
// skipping one would lose its deliveries.
type Worker struct {
	o    WorkerOptions
	wake chan struct{}
}

// NewWorker returns a Worker.
func NewWorker(o WorkerOptions) (*Worker, error) {
	if o.Feed == nil || o.Handle == nil {
		return nil, errors.New("stream: a worker needs Feed and Handle")
	}
	if o.Name == "" {
		o.Name = "stream"
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Parallel <= 0 {
		o.Parallel = 16
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{o: o, wake: make(chan struct{}, 1)}, nil
}

// Wake tells the worker there may be new changes. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx ends, then returns nil once the change in hand is
// handled and the checkpoint saved. It returns an error only when the
// checkpoint cannot be read at the start (while ctx is live).
func (w *Worker) Run(ctx context.Context) error {
	seq, err := w.o.Feed.Checkpoint(ctx, w.o.Name)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it started
		}
		return err
	}
	// Changes in hand are finished even when ctx ends meanwhile: the
	// store stays open until Run returns.
	work := context.WithoutCancel(ctx)
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		changes, err := w.o.Feed.Changes(work, seq, w.o.Batch)
		if err != nil {
			w.o.Logger.ErrorContext(ctx, "stream worker: read the change feed", "after", seq, "error", err.Error())
			backoff = w.sleep(ctx, grow(backoff, w.o.MaxBackoff))
			continue
		}
		if len(changes) == 0 {
			backoff = 0
			w.idle(ctx)
			continue
		}
		done := w.handleBatch(ctx, work, seq, changes)
		if done != seq {
			// Go on from done even if it cannot be saved: the changes are
			// handled, and handling them again at once would only repeat
			// their metrics. The durable checkpoint lags until a save
			// succeeds, so a restart still hands them over again.
			if err := w.o.Feed.SaveCheckpoint(work, w.o.Name, done); err != nil {
				w.o.Logger.ErrorContext(ctx, "stream worker: save checkpoint", "seq", done, "error", err.Error())
			}
			seq = done
		}
		if done == changes[len(changes)-1].Seq {
			backoff = 0
			continue
		}
		backoff = w.sleep(ctx, grow(backoff, w.o.MaxBackoff))
	}
	return nil
}

// handleBatch hands a batch's changes to Handle, up to Parallel at once,
// each event's changes in feed order, and returns the sequence number up
// to which every change was handled: the new checkpoint. After a failure
// no further event is started; changes already running finish, and those
// after the failed one are handled again next time, which Handle makes
// harmless. With Parallel 1 this is exactly one at a time in feed order,
// stopping at the first failure.
func (w *Worker) handleBatch(ctx, work context.Context, seq uint64, changes []event.SequencedChange) uint64 {
	// Group by event, keeping feed order within each group.
	groups := map[string][]int{}
	var order []string
	for i, ch := range changes {
		id := ch.Event.ID
		if _, ok := groups[id]; !ok {
			order = append(order, id)
		}
		groups[id] = append(groups[id], i)
	}
	failed := make([]bool, len(changes))
	var stop atomic.Bool // a change failed: start no more, retry from it
	sem := make(chan struct{}, w.o.Parallel)
	var wg sync.WaitGroup
	for _, id := range order {
		idx := groups[id]
		sem <- struct{}{}
		if stop.Load() || ctx.Err() != nil {
			<-sem
			markFailed(failed, idx)
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			for n, i := range idx {
				ch := changes[i]
				if err := w.o.Handle(work, ch.Change); err != nil {
					w.o.Logger.ErrorContext(ctx, "stream worker: handle change (will retry)", "seq", ch.Seq,
						"kind", string(ch.Kind), "event_id", ch.Event.ID, "error", err.Error())
					stop.Store(true)
					markFailed(failed, idx[n:])
					return
				}
			}
		})
	}
	wg.Wait()
	done := seq
	for i, ch := range changes {
		if failed[i] {
			break
		}
		done = ch.Seq
	}
	return done
}

// markFailed marks changes not handled; each index is owned by one
// goroutine, so no lock is needed.
func markFailed(failed []bool, idx []int) {
	for _, i := range idx {
		failed[i] = true
	}
}

// idle waits for a wake-up, the poll interval or the end of ctx.
func (w *Worker) idle(ctx context.Context) {
	t := time.NewTimer(w.o.Poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.wake:
	case <-t.C:
	}
}

// sleep waits d or until ctx ends, and returns d.
func (w *Worker) sleep(ctx context.Context, d time.Duration) time.Duration {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return d
}

// grow doubles a backoff from 100ms up to limit.
func grow(d, limit time.Duration) time.Duration {
	if d <= 0 {
		return min(100*time.Millisecond, limit)
	}
	return min(2*d, limit)
}

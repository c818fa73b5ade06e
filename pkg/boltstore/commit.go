package boltstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"go.etcd.io/bbolt"

	"github.com/triggershq/triggers/pkg/event"
)

// write is one writer's part of a group commit. Its fn may run more than
// once (if another write in the same batch fails, the batch is retried
// without it), so fn must set its results afresh on every run, and it must
// return an error only for a failure that should abort the transaction:
// domain outcomes such as "conflict" are results, not errors.
type write struct {
	fn   func(tx *bbolt.Tx) error
	done chan error
}

// update runs fn in a write transaction shared with other concurrent
// writers: one fsync serves them all. When it returns nil, fn's changes are
// on disk.
func (s *Store) update(ctx context.Context, op string, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return event.Internal(op, err)
	}
	w := &write{fn: fn, done: make(chan error, 1)}
	s.closeMu.RLock()
	if s.closed.Load() {
		s.closeMu.RUnlock()
		return errClosed()
	}
	s.writes <- w
	s.closeMu.RUnlock()
	// Wait even if ctx is cancelled: the write may already be committed, and
	// reporting failure for a durable write would invite a duplicate retry.
	return s.wrap(op, <-w.done)
}

// commitLoop is the single writer. It takes every write that is waiting
// (up to MaxBatch), commits them in one transaction, and repeats. Writers
// that arrive during a commit's fsync queue up and form the next batch, so
// the batch size adapts to the load with no fixed delay.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	batch := make([]*write, 0, s.opts.MaxBatch)
	busy := false // the last commit carried more than one write
	for {
		batch = batch[:0]
		select {
		case w := <-s.writes:
			batch = append(batch, w)
		case <-s.stop:
			// Close holds closeMu, so no writer is mid-send: drain and finish.
			for {
				select {
				case w := <-s.writes:
					s.commit([]*write{w})
				default:
					return
				}
			}
		}
		batch = s.gather(batch, busy)
		busy = len(batch) > 1
		s.commit(batch)
	}
}

// gather adds the writes already queued and, when the store is busy
// (the last commit was shared), waits up to BatchDelay for more. A lone
// writer therefore never waits, and under load the batches fill up.
func (s *Store) gather(batch []*write, busy bool) []*write {
	// Writers the last commit just released are runnable but may not have
	// queued their next write yet; yielding once lets them, which roughly
	// doubles the batch under load at the cost of a microsecond when idle.
	runtime.Gosched()
	var timeout <-chan struct{}
	if busy && s.opts.BatchDelay > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.BatchDelay)
		defer cancel()
		timeout = ctx.Done()
	}
	for len(batch) < s.opts.MaxBatch {
		if timeout == nil {
			select {
			case w := <-s.writes:
				batch = append(batch, w)
				continue
			default:
				return batch
			}
		}
		select {
		case w := <-s.writes:
			batch = append(batch, w)
		case <-timeout:
			return batch
		}
	}
	return batch
}

// errAbortBatch marks the batch transaction as rolled back because of one
// write; the others are retried.
var errAbortBatch = errors.New("batch aborted")

// commit runs the batch in one transaction. A write whose fn fails is told
// its error and removed, and the rest run again in a fresh transaction, so
// one bad write never fails or corrupts its neighbours.
func (s *Store) commit(batch []*write) {
	for len(batch) > 0 {
		failed, failErr := -1, error(nil)
		err := s.db.Update(func(tx *bbolt.Tx) error {
			for i, w := range batch {
				if err := safeCall(w.fn, tx); err != nil {
					failed, failErr = i, err
					return errAbortBatch
				}
			}
			return nil
		})
		if failed >= 0 {
			batch[failed].done <- failErr
			batch = append(batch[:failed], batch[failed+1:]...)
			continue
		}
		if err != nil {
			s.log.Error("boltstore: commit failed", "writes", len(batch), "err", err)
		} else {
			s.commits.Add(1)
			s.writesDone.Add(uint64(len(batch)))
		}
		for _, w := range batch {
			w.done <- err
		}
		return
	}
}

// safeCall turns a panic in a write into an error for that write alone.
func safeCall(fn func(tx *bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in write: %v", p)
		}
	}()
	return fn(tx)
}

// Stats counts the group commits since Open.
type Stats struct {
	Commits uint64 // write transactions committed (one fsync each)
	Writes  uint64 // writes (Put, Ack, ...) they carried; Writes/Commits is the mean batch size
}

// Stats returns the commit counters, for metrics and benchmarks.
func (s *Store) Stats() Stats {
	return Stats{Commits: s.commits.Load(), Writes: s.writesDone.Load()}
}

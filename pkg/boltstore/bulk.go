package boltstore

import (
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/triggershq/triggers/pkg/event"
)

// bulkChunk is how many events PutMany writes per transaction: large
// enough to amortize the fsync, small enough to keep the transaction's
// dirty pages in a few tens of megabytes.
const bulkChunk = 20_000

// PutMany stores many new pending events in large transactions, for
// imports and benchmarks (the HTTP benchmark preloads a million events with
// it). It writes the same indexes and change records as Put, so the result
// is indistinguishable from calling Put for each event, but it is not
// atomic across chunks: on error, earlier chunks stay stored. Events must
// not carry idempotency keys (CodeInvalid): a bulk load has no request to
// replay. An id that already exists is CodeInternal.
func (s *Store) PutMany(ctx context.Context, events []event.Event) error {
	for start := 0; start < len(events); start += bulkChunk {
		end := min(start+bulkChunk, len(events))
		if err := s.putChunk(ctx, events[start:end]); err != nil {
			return fmt.Errorf("put many: events %d..%d: %w", start, end-1, err)
		}
	}
	return nil
}

func (s *Store) putChunk(ctx context.Context, chunk []event.Event) error {
	type prepared struct {
		e   event.Event
		id  []byte
		rec []byte
	}
	batch := make([]prepared, len(chunk))
	for i, e := range chunk {
		if e.IdempotencyKey != "" {
			return event.Invalid("idempotency_key", "PutMany does not take idempotency keys (event %d)", i)
		}
		e, id, err := s.prepare(e)
		if err != nil {
			return err
		}
		rec := encodeEvent(&e)
		if len(rec) > s.opts.MaxEventBytes {
			return event.Errorf(event.CodeTooLarge, "event %d is %d bytes, more than this store's limit of %d", i, len(rec), s.opts.MaxEventBytes)
		}
		batch[i] = prepared{e, id, rec}
	}
	now := s.timestamp()
	return s.update(ctx, "put many", func(tx *bbolt.Tx) error {
		// Ids from event.IDs are increasing, so every key lands at the end
		// of its bucket or of its type's or source's range in an index:
		// pack the pages instead of splitting them half full.
		for _, name := range allBuckets {
			tx.Bucket(name).FillPercent = 0.9
		}
		for _, p := range batch {
			_, _, outcome, err := putTx(tx, p.id, p.e, p.rec, now)
			if err != nil {
				return err
			}
			if outcome != nil {
				return outcome
			}
		}
		return nil
	})
}

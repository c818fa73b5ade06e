package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/triggershq/triggers/pkg/event"
)

// SweepExpired removes every event whose ExpiresAt is at or before Now from
// all indexes, writing an expired change for each in the same transaction,
// removes expired webhook deliveries and attempts (not counted in the
// result), and prunes the outbox (see pruneOutbox). It works in transactions of
// Options.SweepChunk events so writers are never held up for long, and
// returns how many events it removed. Reads already hide expired events;
// sweeping only reclaims space and frees their idempotency keys' records.
func (s *Store) SweepExpired(ctx context.Context) (int, error) {
	removed, err := s.inChunks(ctx, s.sweepChunk)
	if err != nil {
		return removed, err
	}
	if _, err := s.inChunks(ctx, s.sweepDeliveries); err != nil {
		return removed, err
	}
	_, err = s.inChunks(ctx, s.pruneOutbox)
	return removed, err
}

// inChunks calls chunk, one bounded transaction, until it does less than
// a whole SweepChunk or ctx ends, and returns what it did in all.
func (s *Store) inChunks(ctx context.Context, chunk func(context.Context) (int, error)) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, event.Internal("sweep", err)
		}
		n, err := chunk(ctx)
		total += n
		if err != nil || n < s.opts.SweepChunk {
			return total, err
		}
	}
}

// sweepChunk removes up to SweepChunk expired events in one transaction.
func (s *Store) sweepChunk(ctx context.Context) (int, error) {
	now := s.timestamp()
	limit := s.opts.SweepChunk
	var removed int
	err := s.update(ctx, "sweep", func(tx *bbolt.Tx) error {
		removed = 0
		c := tx.Bucket(bucketExpiry).Cursor()
		var keys [][]byte
		for k, _ := c.First(); k != nil && len(keys) < limit; k, _ = c.Next() {
			if len(k) != 8+idLen {
				return fmt.Errorf("%w: expiry key of %d bytes", errCorrupt, len(k))
			}
			if expiryTime(k).After(now) {
				break
			}
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := expireTx(tx, k, now); err != nil {
				return err
			}
			removed++
		}
		return nil
	})
	return removed, err
}

// expireTx deletes one event (named by its expiry key) and everything that
// points to it.
func expireTx(tx *bbolt.Tx, expKey []byte, now time.Time) error {
	if err := tx.Bucket(bucketExpiry).Delete(expKey); err != nil {
		return err
	}
	id := expKey[8:]
	events := tx.Bucket(bucketEvents)
	rec := events.Get(id)
	if rec == nil {
		return nil // already gone; the expiry entry was stale
	}
	e, err := decodeEvent(id, rec)
	if err != nil {
		return err
	}
	rec = bytes.Clone(rec) // bbolt's copy is invalid after Delete
	if err := events.Delete(id); err != nil {
		return err
	}
	if e.Status == event.StatusPending {
		if err := indexPending(tx, id, &e, false); err != nil {
			return err
		}
	}
	if e.IdempotencyKey != "" {
		idem := tx.Bucket(bucketIdem)
		// The key may already belong to a newer event; leave that alone.
		if v := idem.Get([]byte(e.IdempotencyKey)); len(v) >= idLen && bytes.Equal(v[:idLen], id) {
			if err := idem.Delete([]byte(e.IdempotencyKey)); err != nil {
				return err
			}
		}
	}
	return appendChange(tx, kindExpired, now, id, rec)
}

// pruneOutbox deletes up to SweepChunk change records from the start of
// the outbox that are either at or below every saved checkpoint (when at
// least one consumer has saved one), or older than Options.OutboxRetention.
// Without any checkpoint only the age rule applies, so a feed nobody has
// consumed yet is kept for a consumer that starts later.
func (s *Store) pruneOutbox(ctx context.Context) (int, error) {
	cutoff := s.timestamp().Add(-s.opts.OutboxRetention)
	limit := s.opts.SweepChunk
	var pruned int
	err := s.update(ctx, "prune outbox", func(tx *bbolt.Tx) error {
		pruned = 0
		floor, have, err := minCheckpoint(tx)
		if err != nil {
			return err
		}
		c := tx.Bucket(bucketOutbox).Cursor()
		var keys [][]byte
		for k, v := c.First(); k != nil && len(keys) < limit; k, v = c.Next() {
			if len(k) != 8 || len(v) < 10 {
				return fmt.Errorf("%w: outbox record", errCorrupt)
			}
			passed := have && beUint64(k) <= floor
			old := getTime(v[2:]).Before(cutoff)
			if !passed && !old {
				break
			}
			keys = append(keys, bytes.Clone(k))
		}
		b := tx.Bucket(bucketOutbox)
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		pruned = len(keys)
		return nil
	})
	return pruned, err
}

func minCheckpoint(tx *bbolt.Tx) (uint64, bool, error) {
	floor, have := ^uint64(0), false
	err := tx.Bucket(bucketCheckpoints).ForEach(func(_, v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("%w: checkpoint of %d bytes", errCorrupt, len(v))
		}
		floor, have = min(floor, beUint64(v)), true
		return nil
	})
	return floor, have, err
}

// RunSweeper calls SweepExpired at once and then every interval until ctx
// is done or the store is closed. Failures are logged and retried on the
// next tick.
func (s *Store) RunSweeper(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := s.SweepExpired(ctx)
		switch {
		case event.ErrorCode(err) == event.CodeUnavailable && s.closed.Load():
			return
		case err != nil && ctx.Err() == nil:
			s.log.ErrorContext(ctx, "boltstore: sweep failed", "removed", n, "err", err)
		case n > 0:
			s.log.InfoContext(ctx, "boltstore: swept expired events", "removed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

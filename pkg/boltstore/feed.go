package boltstore

import (
	"context"
	"fmt"
	"unicode/utf8"

	"go.etcd.io/bbolt"

	"github.com/triggershq/triggers/pkg/event"
)

// MaxChanges is the most changes one Changes call returns; a larger or
// non-positive limit means MaxChanges.
const MaxChanges = 1000

// Changes returns changes after the given sequence number in commit order;
// see event.ChangeFeed. Changes already pruned (see SweepExpired) are
// skipped.
func (s *Store) Changes(ctx context.Context, after uint64, limit int) ([]event.SequencedChange, error) {
	if limit <= 0 || limit > MaxChanges {
		limit = MaxChanges
	}
	out := []event.SequencedChange{}
	err := s.view(ctx, "changes", func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		if after == ^uint64(0) {
			return nil
		}
		for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			if len(k) != 8 {
				return fmt.Errorf("%w: outbox key of %d bytes", errCorrupt, len(k))
			}
			ch, err := decodeChange(beUint64(k), v)
			if err != nil {
				return err
			}
			out = append(out, ch)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// maxConsumerLen bounds consumer names, which are bbolt keys.
const maxConsumerLen = 200

func checkConsumer(name string) error {
	if name == "" || len(name) > maxConsumerLen || !utf8.ValidString(name) {
		return event.Invalid("consumer", "consumer must be 1 to %d bytes of UTF-8", maxConsumerLen)
	}
	return nil
}

// Checkpoint returns the consumer's saved position, 0 if none; see
// event.ChangeFeed.
func (s *Store) Checkpoint(ctx context.Context, consumer string) (uint64, error) {
	if err := checkConsumer(consumer); err != nil {
		return 0, err
	}
	var seq uint64
	err := s.view(ctx, "checkpoint "+consumer, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketCheckpoints).Get([]byte(consumer))
		switch {
		case v == nil:
		case len(v) != 8:
			return fmt.Errorf("%w: checkpoint of %d bytes", errCorrupt, len(v))
		default:
			seq = beUint64(v)
		}
		return nil
	})
	return seq, err
}

// SaveCheckpoint durably records the consumer's position; see
// event.ChangeFeed. In the same transaction it prunes changes every
// consumer with a checkpoint has now passed (up to pruneOnCheckpoint of
// them): those records were written moments ago, so deleting them touches
// pages that are still hot, and the outbox stays small under sustained
// ingest instead of being pruned in large bursts by the sweeper (which
// still removes whatever this leaves, and records past OutboxRetention).
func (s *Store) SaveCheckpoint(ctx context.Context, consumer string, seq uint64) error {
	if err := checkConsumer(consumer); err != nil {
		return err
	}
	return s.update(ctx, "save checkpoint "+consumer, func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bucketCheckpoints).Put([]byte(consumer), u64(seq)); err != nil {
			return err
		}
		floor, _, err := minCheckpoint(tx)
		if err != nil {
			return err
		}
		_, err = prunePassed(tx, floor, pruneOnCheckpoint)
		return err
	})
}

// pruneOnCheckpoint bounds the pruning one SaveCheckpoint does, so a
// consumer catching up on a long backlog never makes one huge transaction.
const pruneOnCheckpoint = 2 * MaxChanges

// prunePassed deletes up to limit outbox records with sequence numbers at
// or below floor, oldest first, and returns how many. Deleting is
// idempotent, so a group commit may re-run it.
func prunePassed(tx *bbolt.Tx, floor uint64, limit int) (int, error) {
	b := tx.Bucket(bucketOutbox)
	c := b.Cursor()
	n := 0
	for k, _ := c.First(); k != nil && n < limit; k, _ = c.First() {
		if len(k) != 8 {
			return n, fmt.Errorf("%w: outbox key", errCorrupt)
		}
		if beUint64(k) > floor {
			break
		}
		if err := c.Delete(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

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
// event.ChangeFeed. The sweeper prunes changes every consumer with a
// checkpoint has passed.
func (s *Store) SaveCheckpoint(ctx context.Context, consumer string, seq uint64) error {
	if err := checkConsumer(consumer); err != nil {
		return err
	}
	return s.update(ctx, "save checkpoint "+consumer, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketCheckpoints).Put([]byte(consumer), u64(seq))
	})
}

package boltstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/triggershq/triggers/pkg/event"
)

// Check verifies the whole file: every record decodes, every index entry
// points at a matching event and every event has the index entries its
// state requires, and the pending counter equals the pending index. It reads
// everything (O(n)) in one read transaction, so it is for tests, crash
// recovery checks and operators, not for a request path. It returns
// CodeInternal describing the first few problems, or nil.
func (s *Store) Check(ctx context.Context) error {
	return s.view(ctx, "check", func(tx *bbolt.Tx) error {
		var problems []error
		report := func(format string, args ...any) error {
			problems = append(problems, fmt.Errorf(format, args...))
			if len(problems) >= 20 {
				return errors.Join(problems...)
			}
			return nil
		}
		if err := checkEvents(tx, s.timestamp(), report); err != nil {
			return err
		}
		if err := checkIndexes(tx, report); err != nil {
			return err
		}
		if err := checkDeliveries(tx, report); err != nil {
			return err
		}
		if err := tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return report("outbox key %x", k)
			}
			if _, err := decodeChange(beUint64(k), v); err != nil {
				return report("%v", err)
			}
			return nil
		}); err != nil {
			return err
		}
		if len(problems) > 0 {
			return errors.Join(problems...)
		}
		return nil
	})
}

// checkEvents checks each event has the entries its state requires.
func checkEvents(tx *bbolt.Tx, now time.Time, report func(string, ...any) error) error {
	pending := 0
	err := tx.Bucket(bucketEvents).ForEach(func(k, v []byte) error {
		e, err := decodeEvent(k, v)
		if err != nil {
			return report("%v", err)
		}
		if e.Status == event.StatusPending {
			pending++
			for _, b := range [][]byte{bucketPending, bucketPendingType, bucketPendingSrc, bucketPendingTS} {
				if tx.Bucket(b).Get(indexKey(prefixOf(b, &e), k)) == nil {
					if err := report("pending event %s missing from %s", e.ID, b); err != nil {
						return err
					}
				}
			}
		}
		if !e.ExpiresAt.IsZero() && tx.Bucket(bucketExpiry).Get(expiryKey(e.ExpiresAt, k)) == nil {
			if err := report("event %s missing from expiry index", e.ID); err != nil {
				return err
			}
		}
		// A newer event may have taken over (and lost) an expired event's key.
		if e.IdempotencyKey != "" && !e.Expired(now) && tx.Bucket(bucketIdem).Get([]byte(e.IdempotencyKey)) == nil {
			if err := report("event %s: idempotency key has no record", e.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	v := tx.Bucket(bucketMeta).Get(keyPending)
	if len(v) != 8 || beUint64(v) != uint64(pending) {
		return report("pending counter %x, want %d", v, pending)
	}
	return nil
}

// checkIndexes checks each index entry points at a matching event.
func checkIndexes(tx *bbolt.Tx, report func(string, ...any) error) error {
	events := tx.Bucket(bucketEvents)
	lookup := func(id []byte) (event.Event, bool) {
		rec := events.Get(id)
		if rec == nil {
			return event.Event{}, false
		}
		e, err := decodeEvent(id, rec)
		return e, err == nil
	}
	for _, b := range [][]byte{bucketPending, bucketPendingType, bucketPendingSrc, bucketPendingTS} {
		err := tx.Bucket(b).ForEach(func(k, _ []byte) error {
			if len(k) < idLen {
				return report("%s key %x too short", b, k)
			}
			id := k[len(k)-idLen:]
			e, ok := lookup(id)
			if !ok || e.Status != event.StatusPending || string(indexKey(prefixOf(b, &e), id)) != string(k) {
				return report("%s entry %q does not match a pending event", b, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	err := tx.Bucket(bucketExpiry).ForEach(func(k, _ []byte) error {
		if len(k) != 8+idLen {
			return report("expiry key %x", k)
		}
		if e, ok := lookup(k[8:]); !ok || !e.ExpiresAt.Equal(expiryTime(k)) {
			return report("expiry entry %x does not match an event", k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tx.Bucket(bucketIdem).ForEach(func(k, v []byte) error {
		if len(v) < idLen {
			return report("idempotency record for %q too short", k)
		}
		if e, ok := lookup(v[:idLen]); !ok || e.IdempotencyKey != string(k) {
			return report("idempotency record for %q does not match an event", k)
		}
		return nil
	})
}

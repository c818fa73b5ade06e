package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/triggershq/triggers/pkg/event"
)

// maxDueExamined bounds how many schedule entries one DueDeliveries call
// looks at beyond limit (entries of gone or disabled subscriptions, which it
// ends, and expired deliveries), so one call's cost stays bounded however
// many deliveries a deleted subscription left behind; the next call goes on.
const maxDueExamined = 1000

// DueDeliveries returns pending deliveries due at now, oldest due first;
// see event.DeliverySchedule. It reads in a read transaction and writes
// only when it found deliveries to end, so polling an idle schedule never
// queues behind writers or costs an fsync.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]event.Delivery, error) {
	if limit < 1 || limit > event.MaxDueLimit {
		limit = event.DefaultDueLimit
	}
	now = event.Timestamp(now)
	bound := timeKey(now.Add(time.Microsecond)) // every entry due at or before now sorts below
	var (
		due   []event.Delivery
		ended []string
	)
	err := s.view(ctx, "due deliveries", func(tx *bbolt.Tx) error {
		subs := tx.Bucket(bucketSubs)
		deliveries := tx.Bucket(bucketDeliveries)
		c := tx.Bucket(bucketSchedule).Cursor()
		active := map[string]bool{} // subscriptions looked up in this call
		examined := 0
		for k, _ := c.First(); k != nil && bytes.Compare(k, bound) < 0 && len(due) < limit && examined < limit+maxDueExamined; k, _ = c.Next() {
			examined++
			if len(k) != 8+deliveryIDLen {
				return fmt.Errorf("%w: schedule key of %d bytes", errCorrupt, len(k))
			}
			id := k[8:]
			rec := deliveries.Get(id)
			if rec == nil {
				return fmt.Errorf("%w: schedule entry for missing delivery %q", errCorrupt, id)
			}
			d, expires, err := decodeDelivery(id, rec)
			if err != nil {
				return err
			}
			if !expires.After(now) {
				continue // the sweeper removes it
			}
			ok, seen := active[d.SubscriptionID]
			if !seen {
				ok = subscriptionActive(subs, d.SubscriptionID)
				active[d.SubscriptionID] = ok
			}
			if !ok {
				ended = append(ended, d.ID)
				continue
			}
			due = append(due, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(ended) > 0 {
		if err := s.endOrphans(ctx, ended); err != nil {
			return nil, err
		}
	}
	if due == nil {
		due = []event.Delivery{}
	}
	return due, nil
}

// subscriptionActive reports whether the subscription exists and is
// active. A record that does not decode counts as active, so its
// deliveries stay due and the corruption surfaces where it is read.
func subscriptionActive(subs *bbolt.Bucket, id string) bool {
	key, ok := idKey(id)
	if !ok {
		return false
	}
	rec := subs.Get(key)
	if rec == nil {
		return false
	}
	sub, err := decodeSub(key, rec)
	return err != nil || sub.Active()
}

// endOrphans ends pending deliveries whose subscription is gone or
// disabled: state failed, no attempt, off the schedule. It checks again
// inside the write transaction, because a delivery may have moved since
// the read.
func (s *Store) endOrphans(ctx context.Context, ids []string) error {
	now := s.timestamp()
	return s.update(ctx, "end deliveries of gone subscriptions", func(tx *bbolt.Tx) error {
		subs := tx.Bucket(bucketSubs)
		for _, id := range ids {
			rec := tx.Bucket(bucketDeliveries).Get([]byte(id))
			if rec == nil {
				continue
			}
			d, expires, err := decodeDelivery([]byte(id), rec)
			if err != nil {
				return err
			}
			if d.State != event.DeliveryPending || subscriptionActive(subs, d.SubscriptionID) {
				continue
			}
			rec = bytes.Clone(rec)
			d.State, d.NextAttemptAt, d.UpdatedAt = event.DeliveryFailed, time.Time{}, now
			if err := putDelivery(tx, &d, expires, rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// sweepDeliveries removes up to SweepChunk expired deliveries and attempts
// in one transaction, with their schedule entries, and returns how many
// records it removed.
func (s *Store) sweepDeliveries(ctx context.Context) (int, error) {
	now := s.timestamp()
	limit := s.opts.SweepChunk
	var removed int
	err := s.update(ctx, "sweep deliveries", func(tx *bbolt.Tx) error {
		removed = 0
		exp := tx.Bucket(bucketDlvExpiry)
		var keys [][]byte
		c := exp.Cursor()
		for k, _ := c.First(); k != nil && len(keys) < limit; k, _ = c.Next() {
			if len(k) < 9 {
				return fmt.Errorf("%w: delivery expiry key of %d bytes", errCorrupt, len(k))
			}
			if expiryTime(k).After(now) {
				break
			}
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := expireDeliveryRecord(tx, k); err != nil {
				return err
			}
			removed++
		}
		return nil
	})
	return removed, err
}

// expireDeliveryRecord deletes the record a delivery_expiry entry names,
// and the entry.
func expireDeliveryRecord(tx *bbolt.Tx, expKey []byte) error {
	if err := tx.Bucket(bucketDlvExpiry).Delete(expKey); err != nil {
		return err
	}
	kind, key := expKey[8], expKey[9:]
	switch kind {
	case expiryKindAttempt:
		return tx.Bucket(bucketAttempts).Delete(key)
	case expiryKindDelivery:
		b := tx.Bucket(bucketDeliveries)
		rec := b.Get(key)
		if rec == nil {
			return nil
		}
		d, _, err := decodeDelivery(key, rec)
		if err != nil {
			return err
		}
		if !d.NextAttemptAt.IsZero() {
			if err := tx.Bucket(bucketSchedule).Delete(scheduleKey(d.NextAttemptAt, d.ID)); err != nil {
				return err
			}
		}
		return b.Delete(key)
	default:
		return fmt.Errorf("%w: delivery expiry entry of kind %q", errCorrupt, kind)
	}
}

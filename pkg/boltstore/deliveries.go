package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/triggershq/triggers/pkg/event"
)

// Key layouts of the delivery buckets (see keys.go and docs/storage.md).
const (
	deliveryIDLen = 36 // "msg_" + 32 base32 characters
	attemptKeyLen = idLen + 8 + deliveryIDLen + 4

	expiryKindDelivery = 'd'
	expiryKindAttempt  = 'a'
)

// timeKey is a time as 8 bytes that sort in time order (expiryKey's form).
func timeKey(t time.Time) []byte { return expiryKey(t, nil) }

func attemptKey(sub []byte, a *event.Attempt) []byte {
	k := make([]byte, 0, attemptKeyLen)
	k = append(k, sub...)
	k = append(k, timeKey(a.At)...)
	k = append(k, a.DeliveryID...)
	return binary.BigEndian.AppendUint32(k, uint32(a.N))
}

func scheduleKey(at time.Time, deliveryID string) []byte {
	return append(timeKey(at), deliveryID...)
}

func dlvExpiryKey(at time.Time, kind byte, key []byte) []byte {
	return append(append(timeKey(at), kind), key...)
}

// ClaimDelivery stores d unless a delivery with its id exists; see
// event.DeliveryLog. A pending delivery enters the schedule in the same
// transaction.
func (s *Store) ClaimDelivery(ctx context.Context, d event.Delivery) (event.Delivery, bool, error) {
	if err := d.Validate(); err != nil {
		return event.Delivery{}, false, fmt.Errorf("claim delivery: %w", err)
	}
	d = d.Normalized()
	expires := d.CreatedAt.Add(s.opts.DeliveryRetention)
	key := []byte(d.ID)
	var (
		stored  event.Delivery
		created bool
	)
	err := s.update(ctx, "claim delivery "+d.ID, func(tx *bbolt.Tx) error {
		stored, created = event.Delivery{}, false
		if rec := tx.Bucket(bucketDeliveries).Get(key); rec != nil {
			var err error
			stored, _, err = decodeDelivery(key, rec)
			return err
		}
		if err := putDelivery(tx, &d, expires, nil); err != nil {
			return err
		}
		stored, created = d, true
		return nil
	})
	if err != nil {
		return event.Delivery{}, false, err
	}
	return stored, created, nil
}

// putDelivery writes d with its schedule and expiry entries, replacing
// those of old (the record it overwrites), if any.
func putDelivery(tx *bbolt.Tx, d *event.Delivery, expires time.Time, old []byte) error {
	key := []byte(d.ID)
	if old != nil {
		prev, prevExpires, err := decodeDelivery(key, old)
		if err != nil {
			return err
		}
		if !prev.NextAttemptAt.IsZero() {
			if err := tx.Bucket(bucketSchedule).Delete(scheduleKey(prev.NextAttemptAt, prev.ID)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketDlvExpiry).Delete(dlvExpiryKey(prevExpires, expiryKindDelivery, key)); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketDeliveries).Put(key, encodeDelivery(d, expires)); err != nil {
		return err
	}
	if !d.NextAttemptAt.IsZero() {
		if err := tx.Bucket(bucketSchedule).Put(scheduleKey(d.NextAttemptAt, d.ID), nil); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketDlvExpiry).Put(dlvExpiryKey(expires, expiryKindDelivery, key), nil)
}

// RecordAttempt appends a and, if d supersedes the stored delivery, saves
// d, in one transaction; see event.DeliveryLog. The delivery keeps the
// expiry its first record set (creation + DeliveryRetention); the attempt
// expires DeliveryRetention after it was made. Recording the same attempt
// twice (same delivery, number and time) stores it once.
func (s *Store) RecordAttempt(ctx context.Context, d event.Delivery, a event.Attempt) error {
	if err := a.ValidateFor(d); err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	d, a = d.Normalized(), a.Normalized()
	sub, _ := idKey(d.SubscriptionID)
	akey := attemptKey(sub, &a)
	arec := encodeAttempt(&a, a.At.Add(s.opts.DeliveryRetention))
	aexp := dlvExpiryKey(a.At.Add(s.opts.DeliveryRetention), expiryKindAttempt, akey)
	return s.update(ctx, fmt.Sprintf("record attempt %s #%d", d.ID, a.N), func(tx *bbolt.Tx) error {
		old := tx.Bucket(bucketDeliveries).Get([]byte(d.ID))
		expires := d.CreatedAt.Add(s.opts.DeliveryRetention)
		save := true
		if old != nil {
			prev, prevExpires, err := decodeDelivery([]byte(d.ID), old)
			if err != nil {
				return err
			}
			expires, save = prevExpires, d.Supersedes(prev)
			old = bytes.Clone(old) // bbolt's copy is invalid after a Put
		}
		if save {
			if err := putDelivery(tx, &d, expires, old); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketAttempts).Put(akey, arec); err != nil {
			return err
		}
		return tx.Bucket(bucketDlvExpiry).Put(aexp, nil)
	})
}

// maxAttemptsSkipped bounds how many expired, unswept attempts one
// ListAttempts passes over, as maxSkipped does for ListPending.
const maxAttemptsSkipped = 1000

// ListAttempts returns a subscription's attempts newest first; see
// event.DeliveryLog. It walks the subscription's range of the attempts
// bucket backwards: one seek plus the page.
func (s *Store) ListAttempts(ctx context.Context, subscriptionID string, limit int) ([]event.Attempt, error) {
	if limit < 1 || limit > event.MaxListLimit {
		limit = event.MaxListLimit
	}
	out := []event.Attempt{}
	canon, err := event.ParseID(subscriptionID)
	if err != nil {
		return out, nil // an id that cannot exist has no attempts
	}
	prefix, _ := idKey(canon)
	now := s.timestamp()
	err = s.view(ctx, "list attempts "+canon, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketAttempts).Cursor()
		// Every key of this subscription sorts below prefix + 0xff…
		var k, v []byte
		if k, _ = c.Seek(append(bytes.Clone(prefix), bytes.Repeat([]byte{0xff}, attemptKeyLen-idLen)...)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		skipped := 0
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit && skipped < maxAttemptsSkipped; k, v = c.Prev() {
			a, expires, err := decodeAttempt(k, v)
			if err != nil {
				return err
			}
			if !expires.After(now) {
				skipped++
				continue
			}
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

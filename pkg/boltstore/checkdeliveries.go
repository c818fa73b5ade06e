package boltstore

import (
	"bytes"

	"go.etcd.io/bbolt"
)

// checkDeliveries checks the subscription and delivery buckets for Check:
// every record decodes, every delivery and attempt has its expiry entry,
// every pending delivery with a due time has its schedule entry, and every
// schedule and expiry entry points at a record that matches it.
func checkDeliveries(tx *bbolt.Tx, report func(string, ...any) error) error {
	if err := tx.Bucket(bucketSubs).ForEach(func(k, v []byte) error {
		if _, err := decodeSub(k, v); err != nil {
			return report("%v", err)
		}
		return nil
	}); err != nil {
		return err
	}
	schedule, exp := tx.Bucket(bucketSchedule), tx.Bucket(bucketDlvExpiry)
	if err := tx.Bucket(bucketDeliveries).ForEach(func(k, v []byte) error {
		d, expires, err := decodeDelivery(k, v)
		if err != nil {
			return report("%v", err)
		}
		if err := d.Validate(); err != nil {
			return report("delivery %q: %v", k, err)
		}
		if !d.NextAttemptAt.IsZero() && schedule.Get(scheduleKey(d.NextAttemptAt, d.ID)) == nil {
			return report("delivery %s due at %v is not in the schedule", d.ID, d.NextAttemptAt)
		}
		if exp.Get(dlvExpiryKey(expires, expiryKindDelivery, k)) == nil {
			return report("delivery %s has no expiry entry", d.ID)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := tx.Bucket(bucketAttempts).ForEach(func(k, v []byte) error {
		_, expires, err := decodeAttempt(k, v)
		if err != nil {
			return report("%v", err)
		}
		if exp.Get(dlvExpiryKey(expires, expiryKindAttempt, k)) == nil {
			return report("attempt %x has no expiry entry", k)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := schedule.ForEach(func(k, _ []byte) error {
		if len(k) != 8+deliveryIDLen {
			return report("schedule key %x", k)
		}
		rec := tx.Bucket(bucketDeliveries).Get(k[8:])
		if rec == nil {
			return report("schedule entry %q has no delivery", k[8:])
		}
		d, _, err := decodeDelivery(k[8:], rec)
		if err != nil || d.NextAttemptAt.IsZero() || !bytes.Equal(scheduleKey(d.NextAttemptAt, d.ID), k) {
			return report("schedule entry %q does not match its delivery", k[8:])
		}
		return nil
	}); err != nil {
		return err
	}
	return exp.ForEach(func(k, _ []byte) error {
		if len(k) < 9 {
			return report("delivery expiry key %x", k)
		}
		var (
			rec []byte
			at  []byte
		)
		switch k[8] {
		case expiryKindDelivery:
			if rec = tx.Bucket(bucketDeliveries).Get(k[9:]); rec != nil {
				_, expires, err := decodeDelivery(k[9:], rec)
				if err == nil {
					at = timeKey(expires)
				}
			}
		case expiryKindAttempt:
			if rec = tx.Bucket(bucketAttempts).Get(k[9:]); rec != nil {
				_, expires, err := decodeAttempt(k[9:], rec)
				if err == nil {
					at = timeKey(expires)
				}
			}
		}
		if rec == nil || !bytes.Equal(at, k[:8]) {
			return report("delivery expiry entry %x does not match a record", k)
		}
		return nil
	})
}

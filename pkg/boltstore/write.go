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

// Put stores a new pending event; see event.Store. A nil error means the
// event is fsynced. The store checks the fields it indexes itself (a bad
// id, type, source or idempotency key is CodeInvalid) rather than trusting
// callers to have validated them, because a control byte in an index key
// would corrupt the filters.
func (s *Store) Put(ctx context.Context, e event.Event) (event.Event, bool, error) {
	e, id, err := s.prepare(e)
	if err != nil {
		return event.Event{}, false, fmt.Errorf("put: %w", err)
	}
	rec := encodeEvent(&e)
	if len(rec) > s.opts.MaxEventBytes {
		return event.Event{}, false, event.Errorf(event.CodeTooLarge,
			"event is %d bytes, more than this store's limit of %d", len(rec), s.opts.MaxEventBytes)
	}
	now := s.timestamp()
	var (
		stored   event.Event
		replayed bool
		outcome  error
	)
	err = s.update(ctx, "put "+e.ID, func(tx *bbolt.Tx) error {
		var err error
		stored, replayed, outcome, err = putTx(tx, id, e, rec, now)
		return err
	})
	if err == nil {
		err = outcome
	}
	if err != nil {
		return event.Event{}, false, err
	}
	return stored, replayed, nil
}

// prepare validates what the store indexes and normalizes times to the
// canonical microsecond UTC form.
func (s *Store) prepare(e event.Event) (event.Event, []byte, error) {
	canon, err := event.ParseID(e.ID)
	if err != nil {
		return e, nil, event.Invalid("id", "id must be a UUIDv7 event id")
	}
	id, _ := idKey(canon)
	e.ID = canon
	if err := event.ValidateName("type", e.Type, event.MaxTypeLen); err != nil {
		return e, nil, err
	}
	if err := event.ValidateName("source", e.Source, event.MaxSourceLen); err != nil {
		return e, nil, err
	}
	if e.IdempotencyKey != "" {
		if err := event.ValidateIdempotencyKey(e.IdempotencyKey); err != nil {
			return e, nil, err
		}
	}
	if len(e.Fingerprint) > 1024 {
		return e, nil, event.Invalid("fingerprint", "fingerprint must be at most 1024 bytes")
	}
	e.Status = event.StatusPending
	e.CreatedAt = event.Timestamp(e.CreatedAt)
	e.UpdatedAt = event.Timestamp(e.UpdatedAt)
	if e.UpdatedAt.IsZero() {
		e.UpdatedAt = e.CreatedAt
	}
	if !e.ExpiresAt.IsZero() {
		e.ExpiresAt = event.Timestamp(e.ExpiresAt)
	}
	e.Payload = bytes.Clone(e.Payload)
	return e, id, nil
}

// putTx writes e unless its idempotency key is held by a live event. It
// returns a domain outcome (conflict) separately from err, which aborts the
// transaction.
func putTx(tx *bbolt.Tx, id []byte, e event.Event, rec []byte, now time.Time) (event.Event, bool, error, error) {
	events := tx.Bucket(bucketEvents)
	if e.IdempotencyKey != "" {
		prior, found, err := idempotent(tx, e.IdempotencyKey, now)
		if err != nil {
			return event.Event{}, false, nil, err
		}
		if found {
			if prior.Fingerprint != e.Fingerprint {
				return event.Event{}, false, event.Errorf(event.CodeConflict,
					"Idempotency-Key was already used with a different request"), nil
			}
			return prior, true, nil, nil
		}
	}
	if events.Get(id) != nil {
		return event.Event{}, false, event.Internal("put", fmt.Errorf("event %s already exists", e.ID)), nil
	}
	if err := events.Put(id, rec); err != nil {
		return event.Event{}, false, nil, err
	}
	if e.IdempotencyKey != "" {
		v := append(append(make([]byte, 0, idLen+len(e.Fingerprint)), id...), e.Fingerprint...)
		if err := tx.Bucket(bucketIdem).Put([]byte(e.IdempotencyKey), v); err != nil {
			return event.Event{}, false, nil, err
		}
	}
	if !e.ExpiresAt.IsZero() {
		if err := tx.Bucket(bucketExpiry).Put(expiryKey(e.ExpiresAt, id), nil); err != nil {
			return event.Event{}, false, nil, err
		}
	}
	if err := indexPending(tx, id, &e, true); err != nil {
		return event.Event{}, false, nil, err
	}
	if err := appendChange(tx, kindCreated, now, id, rec); err != nil {
		return event.Event{}, false, nil, err
	}
	return e, false, nil, nil
}

// idempotent returns the live event holding key, if any. A key whose event
// has expired (swept or not) is free.
func idempotent(tx *bbolt.Tx, key string, now time.Time) (event.Event, bool, error) {
	v := tx.Bucket(bucketIdem).Get([]byte(key))
	if v == nil {
		return event.Event{}, false, nil
	}
	if len(v) < idLen {
		return event.Event{}, false, fmt.Errorf("%w: idempotency record for a key of %d bytes", errCorrupt, len(key))
	}
	rec := tx.Bucket(bucketEvents).Get(v[:idLen])
	if rec == nil {
		return event.Event{}, false, nil
	}
	prior, err := decodeEvent(v[:idLen], rec)
	if err != nil {
		return event.Event{}, false, err
	}
	if prior.Expired(now) {
		return event.Event{}, false, nil
	}
	return prior, true, nil
}

// indexPending adds (add=true) or removes the event from the four pending
// indexes and keeps the pending counter in step.
func indexPending(tx *bbolt.Tx, id []byte, e *event.Event, add bool) error {
	keys := [...]struct {
		bucket []byte
		key    []byte
	}{
		{bucketPending, indexKey(prefixOf(bucketPending, e), id)},
		{bucketPendingType, indexKey(prefixOf(bucketPendingType, e), id)},
		{bucketPendingSrc, indexKey(prefixOf(bucketPendingSrc, e), id)},
		{bucketPendingTS, indexKey(prefixOf(bucketPendingTS, e), id)},
	}
	for _, k := range keys {
		b := tx.Bucket(k.bucket)
		var err error
		if add {
			err = b.Put(k.key, nil)
		} else {
			err = b.Delete(k.key)
		}
		if err != nil {
			return fmt.Errorf("index %s: %w", k.bucket, err)
		}
	}
	delta := int64(1)
	if !add {
		delta = -1
	}
	return addPendingCount(tx, delta)
}

func prefixOf(bucket []byte, e *event.Event) []byte {
	switch string(bucket) {
	case string(bucketPending):
		return nil
	case string(bucketPendingType):
		_, p := indexPrefix(e.Type, "")
		return p
	case string(bucketPendingSrc):
		_, p := indexPrefix("", e.Source)
		return p
	default:
		_, p := indexPrefix(e.Type, e.Source)
		return p
	}
}

func addPendingCount(tx *bbolt.Tx, delta int64) error {
	meta := tx.Bucket(bucketMeta)
	v := meta.Get(keyPending)
	if len(v) != 8 {
		return fmt.Errorf("%w: pending counter", errCorrupt)
	}
	n := int64(beUint64(v)) + delta
	if n < 0 {
		return fmt.Errorf("%w: pending counter would go negative", errCorrupt)
	}
	return meta.Put(keyPending, u64(uint64(n)))
}

// appendChange writes one outbox record in the caller's transaction, so the
// feed holds a change if and only if the change itself committed.
func appendChange(tx *bbolt.Tx, kind byte, at time.Time, id, rec []byte) error {
	outbox := tx.Bucket(bucketOutbox)
	seq, err := outbox.NextSequence()
	if err != nil {
		return err
	}
	return outbox.Put(u64(seq), encodeChange(kind, at, id, rec))
}

// Ack marks a pending event delivered; see event.Store. A nil error with
// transitioned=true means the transition is fsynced.
func (s *Store) Ack(ctx context.Context, id string) (event.Event, bool, error) {
	canon, err := event.ParseID(id)
	if err != nil {
		return event.Event{}, false, err
	}
	key, _ := idKey(canon)
	now := s.timestamp()
	// Repeat acks, unknown and expired ids are answered from a read
	// transaction, without queueing behind writers.
	current, err := s.get(ctx, "ack "+canon, key, now)
	if err != nil {
		return event.Event{}, false, err
	}
	if current.Status == event.StatusDelivered {
		return current, false, nil
	}
	var (
		result       event.Event
		transitioned bool
		outcome      error
	)
	err = s.update(ctx, "ack "+canon, func(tx *bbolt.Tx) error {
		result, transitioned, outcome = event.Event{}, false, nil
		rec := tx.Bucket(bucketEvents).Get(key)
		if rec == nil {
			outcome = event.NotFound("event", canon)
			return nil
		}
		e, err := decodeEvent(key, rec)
		if err != nil {
			return err
		}
		if e.Expired(now) {
			outcome = event.NotFound("event", canon)
			return nil
		}
		if e.Status == event.StatusDelivered {
			result = e
			return nil
		}
		d := e.Delivered(now)
		rec = encodeEvent(&d)
		if err := tx.Bucket(bucketEvents).Put(key, rec); err != nil {
			return err
		}
		if err := indexPending(tx, key, &d, false); err != nil {
			return err
		}
		if err := appendChange(tx, kindDelivered, now, key, rec); err != nil {
			return err
		}
		result, transitioned = d, true
		return nil
	})
	if err == nil {
		err = outcome
	}
	if err != nil {
		return event.Event{}, false, err
	}
	return result, transitioned, nil
}

func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

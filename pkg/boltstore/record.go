package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

// Records are a small binary format rather than JSON: encoding/json would
// rewrite the raw payload (it escapes <, > and & inside RawMessage), and a
// fixed layout costs no reflection on the hot path.
//
// Event record, format 1:
//
//	version(1) status(1) created_at(8) updated_at(8) expires_at(8)
//	uvarint-prefixed: type, source, idempotency key, fingerprint, payload
//
// Times are Unix microseconds, big-endian; math.MinInt64 stands for the zero
// time. The id is the record's key and is not repeated.
//
// Change record, format 1:
//
//	version(1) kind(1) at(8) id(16) event record
const recordVersion = 1

const (
	statusPending   = 1
	statusDelivered = 2
)

const (
	kindCreated   = 1
	kindDelivered = 2
	kindExpired   = 3
)

var errCorrupt = errors.New("corrupt record")

func putTime(b []byte, t time.Time) []byte {
	v := int64(math.MinInt64)
	if !t.IsZero() {
		v = t.UnixMicro()
	}
	return binary.BigEndian.AppendUint64(b, uint64(v))
}

func getTime(b []byte) time.Time {
	v := int64(binary.BigEndian.Uint64(b))
	if v == math.MinInt64 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func putBytes(b []byte, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func encodeEvent(e *event.Event) []byte {
	n := 2 + 3*8 + 5*binary.MaxVarintLen32 + len(e.Type) + len(e.Source) +
		len(e.IdempotencyKey) + len(e.Fingerprint) + len(e.Payload)
	b := make([]byte, 0, n)
	status := byte(statusPending)
	if e.Status == event.StatusDelivered {
		status = statusDelivered
	}
	b = append(b, recordVersion, status)
	b = putTime(b, e.CreatedAt)
	b = putTime(b, e.UpdatedAt)
	b = putTime(b, e.ExpiresAt)
	b = putBytes(b, []byte(e.Type))
	b = putBytes(b, []byte(e.Source))
	b = putBytes(b, []byte(e.IdempotencyKey))
	b = putBytes(b, []byte(e.Fingerprint))
	b = putBytes(b, e.Payload)
	return b
}

// decodeEvent parses a record stored under key. It never panics on foreign or
// truncated input and copies everything out of b, which bbolt owns.
func decodeEvent(key, b []byte) (event.Event, error) {
	var e event.Event
	if len(key) != idLen {
		return e, fmt.Errorf("%w: key of %d bytes", errCorrupt, len(key))
	}
	if len(b) < 2+3*8 {
		return e, fmt.Errorf("%w: event %x: %d bytes", errCorrupt, key, len(b))
	}
	if b[0] != recordVersion {
		return e, fmt.Errorf("%w: event %x: unknown format %d", errCorrupt, key, b[0])
	}
	switch b[1] {
	case statusPending:
		e.Status = event.StatusPending
	case statusDelivered:
		e.Status = event.StatusDelivered
	default:
		return e, fmt.Errorf("%w: event %x: unknown status %d", errCorrupt, key, b[1])
	}
	e.ID = idString(key)
	e.CreatedAt = getTime(b[2:])
	e.UpdatedAt = getTime(b[10:])
	e.ExpiresAt = getTime(b[18:])
	rest := b[26:]
	var fields [5][]byte
	for i := range fields {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > uint64(len(rest)-w) {
			return e, fmt.Errorf("%w: event %x: field %d truncated", errCorrupt, key, i)
		}
		fields[i] = rest[w : w+int(n)]
		rest = rest[w+int(n):]
	}
	if len(rest) != 0 {
		return e, fmt.Errorf("%w: event %x: %d trailing bytes", errCorrupt, key, len(rest))
	}
	e.Type = string(fields[0])
	e.Source = string(fields[1])
	e.IdempotencyKey = string(fields[2])
	e.Fingerprint = string(fields[3])
	e.Payload = append([]byte(nil), fields[4]...)
	return e, nil
}

func encodeChange(kind byte, at time.Time, id []byte, rec []byte) []byte {
	b := make([]byte, 0, 2+8+idLen+len(rec))
	b = append(b, recordVersion, kind)
	b = putTime(b, at)
	b = append(b, id...)
	return append(b, rec...)
}

func decodeChange(seq uint64, b []byte) (event.SequencedChange, error) {
	c := event.SequencedChange{Seq: seq}
	if len(b) < 2+8+idLen || b[0] != recordVersion {
		return c, fmt.Errorf("%w: change %d", errCorrupt, seq)
	}
	switch b[1] {
	case kindCreated:
		c.Kind = event.ChangeCreated
	case kindDelivered:
		c.Kind = event.ChangeDelivered
	case kindExpired:
		c.Kind = event.ChangeExpired
	default:
		return c, fmt.Errorf("%w: change %d: unknown kind %d", errCorrupt, seq, b[1])
	}
	c.At = getTime(b[2:])
	e, err := decodeEvent(b[10:10+idLen], b[10+idLen:])
	if err != nil {
		return c, fmt.Errorf("change %d: %w", seq, err)
	}
	c.Event = e
	return c, nil
}

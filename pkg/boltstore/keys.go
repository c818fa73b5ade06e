package boltstore

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/google/uuid"
	"github.com/triggershq/triggers/pkg/event"
)

// Bucket names. The layout is described in docs/storage.md; every write
// transaction keeps all of them consistent with bucketEvents.
var (
	bucketMeta        = []byte("meta")                // schema version, pending counter
	bucketEvents      = []byte("events")              // id(16) → event record
	bucketPending     = []byte("pending")             // id(16) → ""
	bucketPendingType = []byte("pending_type")        // type 0x00 id(16) → ""
	bucketPendingSrc  = []byte("pending_source")      // source 0x00 id(16) → ""
	bucketPendingTS   = []byte("pending_type_source") // type 0x00 source 0x00 id(16) → ""
	bucketIdem        = []byte("idempotency")         // key → id(16) fingerprint
	bucketExpiry      = []byte("expiry")              // expires_at(8) id(16) → ""
	bucketOutbox      = []byte("outbox")              // seq(8) → change record
	bucketCheckpoints = []byte("checkpoints")         // consumer → seq(8)

	allBuckets = [][]byte{
		bucketMeta, bucketEvents, bucketPending, bucketPendingType, bucketPendingSrc,
		bucketPendingTS, bucketIdem, bucketExpiry, bucketOutbox, bucketCheckpoints,
	}

	// The subscription buckets (docs/storage.md, "Subscriptions and
	// deliveries") came after schema version 1's first files, so Open
	// creates them in files that lack them instead of refusing those files.
	bucketSubs          = []byte("subscriptions")   // id(16) → subscription record
	bucketDeliveries    = []byte("deliveries")      // delivery id(36) → delivery record
	bucketAttempts      = []byte("attempts")        // subscription id(16) at(8) delivery id(36) n(4) → attempt record
	bucketSchedule      = []byte("schedule")        // next_attempt_at(8) delivery id(36) → ""
	bucketDlvExpiry     = []byte("delivery_expiry") // expires_at(8) kind(1) key → ""
	subscriptionBuckets = [][]byte{bucketSubs, bucketDeliveries, bucketAttempts, bucketSchedule, bucketDlvExpiry}

	keySchema  = []byte("schema")
	keyPending = []byte("pending_count")
)

// schemaVersion is the layout version written in the meta bucket. Open
// refuses a file with a newer one rather than misreading it.
const schemaVersion = 1

const idLen = 16

// sep separates the parts of composite index keys. Types and sources cannot
// contain control characters (event.ValidateName), so a 0x00 never occurs
// inside a part and "a" 0x00 can never be a prefix of the key of type "ab".
const sep = 0x00

// idKey returns the 16 bytes of a canonical event id.
func idKey(id string) ([]byte, bool) {
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return nil, false
	}
	return u[:], true
}

// idString is the inverse of idKey.
func idString(k []byte) string {
	var u uuid.UUID
	copy(u[:], k)
	return u.String()
}

// validID reports whether 16 bytes look like an id this store issues:
// a UUIDv7 with the RFC 9562 variant.
func validID(k []byte) bool {
	return len(k) == idLen && k[6]>>4 == 7 && k[8]&0xc0 == 0x80
}

// indexPrefix returns the key prefix of the pending index that serves a
// query, and that index's bucket name. An empty prefix means the unfiltered
// pending bucket.
func indexPrefix(typ, source string) (bucket, prefix []byte) {
	switch {
	case typ != "" && source != "":
		p := make([]byte, 0, len(typ)+len(source)+2)
		p = append(p, typ...)
		p = append(p, sep)
		p = append(p, source...)
		return bucketPendingTS, append(p, sep)
	case typ != "":
		return bucketPendingType, append([]byte(typ), sep)
	case source != "":
		return bucketPendingSrc, append([]byte(source), sep)
	default:
		return bucketPending, nil
	}
}

func indexKey(prefix, id []byte) []byte {
	k := make([]byte, 0, len(prefix)+len(id))
	return append(append(k, prefix...), id...)
}

// expiryKey orders events by expiry time, then id. The time is Unix
// microseconds with the sign bit flipped so that big-endian byte order is
// numeric order for times before 1970 too.
func expiryKey(at time.Time, id []byte) []byte {
	k := make([]byte, 8, 8+idLen)
	binary.BigEndian.PutUint64(k, uint64(at.UnixMicro())^(1<<63))
	return append(k, id...)
}

func expiryTime(k []byte) time.Time {
	return time.UnixMicro(int64(binary.BigEndian.Uint64(k) ^ (1 << 63))).UTC()
}

func u64(v uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, v)
}

// cursorVersion is the first byte of every cursor this store issues, so the
// format can change without misreading old cursors.
const cursorVersion = 1

// encodeCursor returns the opaque cursor that resumes a listing after id.
// A cursor is a position in time order only, not bound to the filters: it
// means "events older than this one".
func encodeCursor(id []byte) string {
	b := make([]byte, 0, 1+idLen)
	b = append(append(b, cursorVersion), id...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// maxCursorLen bounds the work spent on a cursor before decoding it.
const maxCursorLen = 64

// decodeCursor accepts only what encodeCursor produces.
func decodeCursor(s string) ([]byte, error) {
	bad := event.Invalid("cursor", "cursor is not one this server issued; start again without it")
	if len(s) == 0 || len(s) > maxCursorLen {
		return nil, bad
	}
	// Strict rejects non-zero padding bits, so one position has one cursor.
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 1+idLen || b[0] != cursorVersion || !validID(b[1:]) {
		return nil, bad
	}
	return b[1:], nil
}

// hasControl reports whether a filter value could never match a stored
// type or source, because stored ones are validated free of control bytes.
func hasControl(s string) bool {
	return bytes.IndexFunc([]byte(s), func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}

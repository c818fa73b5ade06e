package event

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// IDs makes event ids: UUIDv7 (RFC 9562), whose first 48 bits are the Unix
// time in milliseconds, so ids sort by creation time both as bytes and as
// their canonical lowercase strings. Within one IDs value, ids are strictly
// increasing even within a millisecond or if the clock steps back, which
// makes "newest first" by id exact for one process.
//
// It takes the time from the caller, not the wall clock, so tests with an
// injected clock get ids that agree with created_at. The zero value is ready
// to use and safe for concurrent use.
type IDs struct {
	mu   sync.Mutex
	last int64 // ms<<12 | 12-bit sequence of the last id
}

// New returns a new id for an event created at now.
func (g *IDs) New(now time.Time) string {
	ms := now.UnixMilli()
	g.mu.Lock()
	stamp := ms << 12
	if stamp <= g.last {
		stamp = g.last + 1
	}
	g.last = stamp
	g.mu.Unlock()

	var u uuid.UUID
	ms, seq := stamp>>12, stamp&0xfff
	binary.BigEndian.PutUint64(u[0:8], uint64(ms)<<16)
	u[6] = 0x70 | byte(seq>>8) // version 7 in the high nibble
	u[7] = byte(seq)
	_, _ = rand.Read(u[8:]) // crypto/rand.Read never fails (Go 1.24+)
	u[8] = 0x80 | u[8]&0x3f // RFC 9562 variant
	return u.String()
}

// ParseID returns the canonical (lowercase, hyphenated) form of an event id,
// or a CodeNotFound error if s is not a UUIDv7 in the 36-character form: an id
// that cannot exist is not found. Stores only ever see canonical ids, so one
// event never has two keys.
func ParseID(s string) (string, error) {
	if len(s) != 36 {
		return "", NotFound("event", s)
	}
	s = strings.ToLower(s)
	u, err := uuid.Parse(s)
	if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 {
		return "", NotFound("event", s)
	}
	return u.String(), nil
}

// IDTime returns the creation time encoded in a valid event id.
func IDTime(id string) time.Time {
	u, err := uuid.Parse(id)
	if err != nil {
		return time.Time{}
	}
	ms := int64(binary.BigEndian.Uint64(u[0:8]) >> 16)
	return time.UnixMilli(ms).UTC()
}

package event

import (
	"encoding/json"
	"time"
)

// Status is where an event is in its lifecycle.
type Status string

// The lifecycle: an event is created Pending and becomes Delivered when a
// consumer acknowledges it. There is no way back.
const (
	StatusPending   Status = "pending"
	StatusDelivered Status = "delivered"
)

// DefaultRetention is how long an event is kept when nothing else is configured.
const DefaultRetention = 90 * 24 * time.Hour

// Event is one thing that happened in a producer's system, as stored and as
// returned to consumers.
//
// Payload holds the JSON object exactly as the producer sent it, compacted:
// numbers, strings, escapes and key order are preserved byte for byte, because
// it is never decoded into Go values.
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Source    string          `json:"source"`
	Payload   json.RawMessage `json:"payload"`
	Status    Status          `json:"status"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`

	// ExpiresAt is CreatedAt plus the retention period. A store never
	// returns an event at or past its ExpiresAt.
	ExpiresAt time.Time `json:"-"`
	// IdempotencyKey is the producer's Idempotency-Key header, if any.
	IdempotencyKey string `json:"-"`
	// Fingerprint identifies the request body that created the event, so a
	// replay with the same idempotency key can be told apart from a
	// conflicting reuse. See NewEvent.Fingerprint.
	Fingerprint string `json:"-"`
}

// Expired reports whether the event is past its retention at now.
// A zero ExpiresAt never expires.
func (e *Event) Expired(now time.Time) bool {
	return !e.ExpiresAt.IsZero() && !now.Before(e.ExpiresAt)
}

// Delivered returns the event as acknowledged at now.
func (e Event) Delivered(now time.Time) Event {
	e.Status = StatusDelivered
	e.UpdatedAt = now
	return e
}

// Timestamp is the canonical form of every time the domain stores: UTC,
// truncated to microseconds so that every store (and JSON) round-trips it
// exactly.
func Timestamp(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

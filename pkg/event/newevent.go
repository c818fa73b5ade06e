package event

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
	"unicode/utf8"
)

// Limits on producer input. They keep index keys small and log lines sane;
// the payload limit is set by the transport (request body size), not here.
const (
	MaxTypeLen           = 128
	MaxSourceLen         = 256
	MaxIdempotencyKeyLen = 255
)

// NewEvent is what a producer sends to create an event.
type NewEvent struct {
	Type    string
	Source  string
	Payload json.RawMessage
	// IdempotencyKey, when set, makes creation idempotent: see Store.Put.
	IdempotencyKey string
}

// Validate checks the input. It returns a CodeInvalid *Error naming the first
// field at fault, or nil.
func (n NewEvent) Validate() error {
	if err := ValidateName("type", n.Type, MaxTypeLen); err != nil {
		return err
	}
	if err := ValidateName("source", n.Source, MaxSourceLen); err != nil {
		return err
	}
	if err := validatePayload(n.Payload); err != nil {
		return err
	}
	if n.IdempotencyKey != "" {
		return ValidateIdempotencyKey(n.IdempotencyKey)
	}
	return nil
}

// ValidateName checks a type or source: present, not longer than max bytes,
// valid UTF-8, and free of control characters (which would corrupt logs and
// the stores' composite index keys).
func ValidateName(field, value string, max int) error {
	switch {
	case value == "":
		return Invalid(field, "%s is required and must be a non-empty string", field)
	case len(value) > max:
		return Invalid(field, "%s must be at most %d bytes, got %d", field, max, len(value))
	case !utf8.ValidString(value):
		return Invalid(field, "%s must be valid UTF-8", field)
	case hasControl(value):
		return Invalid(field, "%s must not contain control characters", field)
	}
	return nil
}

// ValidateIdempotencyKey checks an Idempotency-Key header value: 1 to 255
// printable ASCII characters.
func ValidateIdempotencyKey(key string) error {
	const field = "Idempotency-Key"
	if key == "" || len(key) > MaxIdempotencyKeyLen {
		return Invalid(field, "Idempotency-Key must be 1 to %d characters", MaxIdempotencyKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return Invalid(field, "Idempotency-Key must be printable ASCII")
		}
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

func validatePayload(p json.RawMessage) error {
	trimmed := bytes.TrimLeft(p, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Invalid("payload", "payload is required and must be a JSON object")
	}
	if !utf8.Valid(p) || !json.Valid(p) {
		return Invalid("payload", "payload must be valid JSON in UTF-8")
	}
	return nil
}

// Fingerprint identifies the request content: two requests with the same
// fingerprint are the same request. Insignificant whitespace in the payload
// does not change it; anything else does. Call it on validated input.
func (n NewEvent) Fingerprint() string {
	h := sha256.New()
	h.Write([]byte(n.Type))
	h.Write([]byte{0})
	h.Write([]byte(n.Source))
	h.Write([]byte{0})
	h.Write(compact(n.Payload))
	return hex.EncodeToString(h.Sum(nil))
}

// Build returns the pending Event for validated input, created at now with
// the given id and retention. A zero or negative retention means
// DefaultRetention.
func (n NewEvent) Build(id string, now time.Time, retention time.Duration) Event {
	if retention <= 0 {
		retention = DefaultRetention
	}
	now = Timestamp(now)
	return Event{
		ID:             id,
		Type:           n.Type,
		Source:         n.Source,
		Payload:        compact(n.Payload),
		Status:         StatusPending,
		CreatedAt:      now,
		UpdatedAt:      now,
		ExpiresAt:      now.Add(retention),
		IdempotencyKey: n.IdempotencyKey,
		Fingerprint:    n.Fingerprint(),
	}
}

// compact removes insignificant whitespace and nothing else; it falls back to
// the input if it is not valid JSON (Validate rejects that earlier).
func compact(p json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, p); err != nil {
		return p
	}
	return buf.Bytes()
}

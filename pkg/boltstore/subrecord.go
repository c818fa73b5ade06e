package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

// Subscription, delivery and attempt records are JSON with a format number:
// they hold no raw payload for encoding/json to rewrite, they are off the
// ingest path, and JSON lets an operator read them with any bbolt browser.
// Times are Unix microseconds (math.MinInt64 for the zero time), as in event
// records.
const subRecordVersion = 1

type subRecord struct {
	V              int      `json:"v"`
	TargetURL      string   `json:"target_url"`
	EventTypes     []string `json:"event_types"`
	Secret         string   `json:"secret"`
	Status         string   `json:"status"`
	DisabledReason string   `json:"disabled_reason,omitempty"`
	CreatedAt      int64    `json:"created_at"`
	UpdatedAt      int64    `json:"updated_at"`
}

type deliveryRecord struct {
	V              int    `json:"v"`
	SubscriptionID string `json:"subscription_id"`
	EventID        string `json:"event_id"`
	State          string `json:"state"`
	Attempts       int    `json:"attempts"`
	NextAttemptAt  int64  `json:"next_attempt_at"`
	CreatedAt      int64  `json:"created_at"`
	UpdatedAt      int64  `json:"updated_at"`
	ExpiresAt      int64  `json:"expires_at"`
}

type attemptRecord struct {
	V          int    `json:"v"`
	EventID    string `json:"event_id"`
	StatusCode int    `json:"status_code,omitempty"`
	LatencyUS  int64  `json:"latency_us"`
	Error      string `json:"error,omitempty"`
	Outcome    string `json:"outcome"`
	ExpiresAt  int64  `json:"expires_at"`
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == math.MinInt64 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func encodeSub(s *event.Subscription) []byte {
	b, _ := json.Marshal(subRecord{ // plain strings and ints: cannot fail
		V: subRecordVersion, TargetURL: s.TargetURL, EventTypes: s.EventTypes, Secret: s.Secret,
		Status: string(s.Status), DisabledReason: s.DisabledReason,
		CreatedAt: micros(s.CreatedAt), UpdatedAt: micros(s.UpdatedAt),
	})
	return b
}

func decodeSub(key, b []byte) (event.Subscription, error) {
	var r subRecord
	if len(key) != idLen {
		return event.Subscription{}, fmt.Errorf("%w: subscription key of %d bytes", errCorrupt, len(key))
	}
	if err := json.Unmarshal(b, &r); err != nil || r.V != subRecordVersion {
		return event.Subscription{}, fmt.Errorf("%w: subscription %x", errCorrupt, key)
	}
	if r.EventTypes == nil {
		r.EventTypes = []string{}
	}
	return event.Subscription{
		ID: idString(key), TargetURL: r.TargetURL, EventTypes: r.EventTypes, Secret: r.Secret,
		Status: event.SubscriptionStatus(r.Status), DisabledReason: r.DisabledReason,
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
	}, nil
}

func encodeDelivery(d *event.Delivery, expires time.Time) []byte {
	b, _ := json.Marshal(deliveryRecord{
		V: subRecordVersion, SubscriptionID: d.SubscriptionID, EventID: d.EventID, State: string(d.State),
		Attempts: d.Attempts, NextAttemptAt: micros(d.NextAttemptAt),
		CreatedAt: micros(d.CreatedAt), UpdatedAt: micros(d.UpdatedAt), ExpiresAt: micros(expires),
	})
	return b
}

// decodeDelivery returns the delivery stored under key and when it expires.
func decodeDelivery(key, b []byte) (event.Delivery, time.Time, error) {
	var r deliveryRecord
	if err := json.Unmarshal(b, &r); err != nil || r.V != subRecordVersion {
		return event.Delivery{}, time.Time{}, fmt.Errorf("%w: delivery %q", errCorrupt, key)
	}
	return event.Delivery{
		ID: string(key), SubscriptionID: r.SubscriptionID, EventID: r.EventID,
		State: event.DeliveryState(r.State), Attempts: r.Attempts, NextAttemptAt: fromMicros(r.NextAttemptAt),
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
	}, fromMicros(r.ExpiresAt), nil
}

func encodeAttempt(a *event.Attempt, expires time.Time) []byte {
	b, _ := json.Marshal(attemptRecord{
		V: subRecordVersion, EventID: a.EventID, StatusCode: a.StatusCode, LatencyUS: a.Latency.Microseconds(),
		Error: a.Error, Outcome: string(a.Outcome), ExpiresAt: micros(expires),
	})
	return b
}

// decodeAttempt returns the attempt stored under an attempts-bucket key,
// and when it expires.
func decodeAttempt(key, b []byte) (event.Attempt, time.Time, error) {
	var r attemptRecord
	if len(key) != attemptKeyLen {
		return event.Attempt{}, time.Time{}, fmt.Errorf("%w: attempt key of %d bytes", errCorrupt, len(key))
	}
	if err := json.Unmarshal(b, &r); err != nil || r.V != subRecordVersion {
		return event.Attempt{}, time.Time{}, fmt.Errorf("%w: attempt %x", errCorrupt, key)
	}
	return event.Attempt{
		SubscriptionID: idString(key[:idLen]),
		At:             expiryTime(key[idLen:]),
		DeliveryID:     string(key[idLen+8 : idLen+8+deliveryIDLen]),
		N:              int(binary.BigEndian.Uint32(key[idLen+8+deliveryIDLen:])),
		EventID:        r.EventID,
		StatusCode:     r.StatusCode,
		Latency:        time.Duration(r.LatencyUS) * time.Microsecond,
		Error:          r.Error,
		Outcome:        event.Outcome(r.Outcome),
	}, fromMicros(r.ExpiresAt), nil
}

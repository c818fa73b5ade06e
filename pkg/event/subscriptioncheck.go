package event

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The checks in this file are what stores run on the values they are
// asked to keep (the Store contracts say a store refuses what it cannot
// key or what contradicts itself): both stores share them, so they refuse
// the same things. They return CodeInvalid *Error values naming the field.

// deliveryIDLen is the length of what DeliveryID returns.
const deliveryIDLen = len("msg_") + 32

// ValidDeliveryID reports whether s has the form DeliveryID returns:
// "msg_" and 32 lowercase base32 characters.
func ValidDeliveryID(s string) bool {
	if len(s) != deliveryIDLen || !strings.HasPrefix(s, "msg_") {
		return false
	}
	for _, c := range s[4:] {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// Validate checks a subscription as a store is asked to keep it (what
// NewSubscription.Build makes, perhaps disabled since): a UUIDv7 id, valid
// target URL and patterns, a secret in the Standard Webhooks form, a known
// status and a creation time.
func (s Subscription) Validate() error {
	if _, err := ParseID(s.ID); err != nil {
		return Invalid("id", "subscription id must be a UUIDv7")
	}
	if err := (NewSubscription{TargetURL: s.TargetURL, EventTypes: s.EventTypes}).Validate(); err != nil {
		return err
	}
	if len(s.Secret) <= len(SecretPrefix) || !strings.HasPrefix(s.Secret, SecretPrefix) {
		return Invalid("secret", "secret must be a %s signing secret", SecretPrefix)
	}
	if s.Status != SubscriptionActive && s.Status != SubscriptionDisabled {
		return Invalid("status", "status must be %q or %q", SubscriptionActive, SubscriptionDisabled)
	}
	if s.CreatedAt.IsZero() {
		return Invalid("created_at", "created_at is required")
	}
	return nil
}

// Validate checks a delivery as a store is asked to keep it: well-formed
// event and subscription ids, the id DeliveryID gives for them, a known
// state, a non-negative attempt count and a creation time.
func (d Delivery) Validate() error {
	evt, err := ParseID(d.EventID)
	if err != nil {
		return Invalid("event_id", "event_id must be a UUIDv7")
	}
	sub, err := ParseID(d.SubscriptionID)
	if err != nil {
		return Invalid("subscription_id", "subscription_id must be a UUIDv7")
	}
	if d.ID != DeliveryID(evt, sub) {
		return Invalid("id", "delivery id must be DeliveryID(event_id, subscription_id)")
	}
	switch d.State {
	case DeliveryPending, DeliverySucceeded, DeliveryFailed, DeliveryDead:
	default:
		return Invalid("state", "unknown delivery state %q", d.State)
	}
	if d.Attempts < 0 {
		return Invalid("attempts", "attempts must not be negative")
	}
	if d.CreatedAt.IsZero() {
		return Invalid("created_at", "created_at is required")
	}
	return nil
}

// ValidateFor checks an attempt as a store is asked to record it with d,
// the delivery after it (which must itself be valid): an attempt of that
// delivery, numbered from 1, with a time and a known outcome.
func (a Attempt) ValidateFor(d Delivery) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if a.DeliveryID != d.ID {
		return Invalid("delivery_id", "the attempt is not of the delivery saved with it")
	}
	if evt, err := ParseID(a.EventID); err != nil || evt != strings.ToLower(d.EventID) {
		return Invalid("event_id", "the attempt's event_id is not its delivery's")
	}
	if sub, err := ParseID(a.SubscriptionID); err != nil || sub != strings.ToLower(d.SubscriptionID) {
		return Invalid("subscription_id", "the attempt's subscription_id is not its delivery's")
	}
	if a.N < 1 {
		return Invalid("attempt", "attempt numbers start at 1")
	}
	if a.At.IsZero() {
		return Invalid("at", "an attempt needs the time it started")
	}
	switch a.Outcome {
	case OutcomeSuccess, OutcomeRetry, OutcomeGone, OutcomeFailed:
	default:
		return Invalid("outcome", "unknown attempt outcome %q", a.Outcome)
	}
	return nil
}

// MaxAttemptError bounds an attempt's error text as stores keep it. The
// webhook sender writes short fixed messages; the bound only keeps a
// caller's bug from growing the store, and Attempt.Normalized cuts rather
// than refuses, so the attempt itself is never lost.
const MaxAttemptError = 1024

// Normalized returns a validated subscription in the form stores keep it:
// canonical id, times as Timestamp (a zero UpdatedAt is CreatedAt), and
// EventTypes a copy that is never nil.
func (s Subscription) Normalized() Subscription {
	s.ID, _ = ParseID(s.ID)
	s.CreatedAt = Timestamp(s.CreatedAt)
	s.UpdatedAt = Timestamp(s.UpdatedAt)
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = s.CreatedAt
	}
	s.EventTypes = slices.Clone(s.EventTypes)
	if s.EventTypes == nil {
		s.EventTypes = []string{}
	}
	return s
}

// SortSubscriptions puts subscriptions in the order ListSubscriptions
// returns them: oldest first, ties by id (ids from different processes'
// generators need not sort in creation order).
func SortSubscriptions(subs []Subscription) {
	slices.SortStableFunc(subs, func(a, b Subscription) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
}

// Normalized returns a validated delivery in the form stores keep it:
// lower-case ids, times as Timestamp (a zero UpdatedAt is CreatedAt), and
// NextAttemptAt only while it is pending, since only then is it ever due.
func (d Delivery) Normalized() Delivery {
	d.EventID = strings.ToLower(d.EventID)
	d.SubscriptionID = strings.ToLower(d.SubscriptionID)
	d.CreatedAt = Timestamp(d.CreatedAt)
	d.UpdatedAt = Timestamp(d.UpdatedAt)
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = d.CreatedAt
	}
	if d.State == DeliveryPending {
		d.NextAttemptAt = Timestamp(d.NextAttemptAt)
	} else {
		d.NextAttemptAt = time.Time{}
	}
	return d
}

// Normalized returns a validated attempt in the form stores keep it:
// lower-case ids, At as Timestamp, Latency in whole microseconds, and Error
// cut to MaxAttemptError bytes on a UTF-8 boundary.
func (a Attempt) Normalized() Attempt {
	a.EventID = strings.ToLower(a.EventID)
	a.SubscriptionID = strings.ToLower(a.SubscriptionID)
	a.At = Timestamp(a.At)
	a.Latency = a.Latency.Truncate(time.Microsecond)
	if len(a.Error) > MaxAttemptError {
		cut := MaxAttemptError
		for cut > 0 && !utf8.RuneStart(a.Error[cut]) {
			cut--
		}
		a.Error = a.Error[:cut]
	}
	return a
}

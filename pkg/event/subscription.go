package event

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits on subscriptions. MaxSubscriptions bounds the fan-out of one event
// (each event becomes at most that many deliveries), so a client cannot turn
// one POST /events into an unbounded amount of outbound work.
const (
	MaxTargetURLLen      = 2048
	MaxEventTypePatterns = 50
	MaxSubscriptions     = 1000
)

// SecretPrefix starts every webhook signing secret (the Standard Webhooks
// format: "whsec_" + base64 of the key bytes).
const SecretPrefix = "whsec_"

// SubscriptionStatus says whether a subscription receives deliveries.
type SubscriptionStatus string

// The subscription statuses. A subscription is created active and is disabled
// when its deliveries keep failing (see the disable rule in pkg/webhook); a
// disabled subscription receives nothing until it is deleted and created again.
const (
	SubscriptionActive   SubscriptionStatus = "active"
	SubscriptionDisabled SubscriptionStatus = "disabled"
)

// Subscription is a REST hook: events whose type matches EventTypes are
// POSTed to TargetURL, signed with Secret.
//
// Secret is never marshalled to JSON (the HTTP layer shows it once, in the
// response that creates the subscription; stores persist it through their own
// record types), and String, GoString and LogValue leave it out. TargetURL is
// left out of String and LogValue as well, all but its host: a REST hook URL
// (Zapier's included) is itself a capability that lets its holder post to the
// consumer's workflow.
type Subscription struct {
	ID             string             `json:"id"`
	TargetURL      string             `json:"target_url"`
	EventTypes     []string           `json:"event_types"` // empty: every type
	Secret         string             `json:"-"`
	Status         SubscriptionStatus `json:"status"`
	DisabledReason string             `json:"disabled_reason,omitempty"`
	CreatedAt      time.Time          `json:"created_at"`
	UpdatedAt      time.Time          `json:"updated_at"`
}

// Active reports whether the subscription receives deliveries.
func (s Subscription) Active() bool { return s.Status == SubscriptionActive }

// Matches reports whether an event of the given type is for this
// subscription, by its EventTypes alone (the caller checks Active).
func (s Subscription) Matches(eventType string) bool {
	if len(s.EventTypes) == 0 {
		return true
	}
	for _, p := range s.EventTypes {
		if MatchType(p, eventType) {
			return true
		}
	}
	return false
}

// MatchType reports whether eventType matches one pattern: a pattern ending
// in "*" matches every type that starts with what precedes the "*" (so
// "order.*" matches "order.created" and "order.item.added" but not "order",
// and "*" matches everything); any other pattern matches only itself.
func MatchType(pattern, eventType string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(eventType, prefix)
	}
	return pattern == eventType
}

// String describes the subscription for humans without its secret or the
// full target URL.
func (s Subscription) String() string {
	return fmt.Sprintf("subscription %s (%s, host %s, types %v)", s.ID, s.Status, targetHost(s.TargetURL), s.EventTypes)
}

// GoString keeps the secret out of %#v too.
func (s Subscription) GoString() string { return s.String() }

// LogValue implements slog.LogValuer without the secret or the full URL.
func (s Subscription) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", s.ID),
		slog.String("status", string(s.Status)),
		slog.String("target_host", targetHost(s.TargetURL)),
		slog.Any("event_types", s.EventTypes),
	)
}

// targetHost returns the host (and port) of a target URL, "" if it has none.
func targetHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// NewSubscription is what a client sends to subscribe.
type NewSubscription struct {
	TargetURL  string
	EventTypes []string
}

// Validate checks the input's syntax. It returns a CodeInvalid *Error naming
// the first field at fault, or nil. Whether the target's host resolves to an
// address we may call is a separate check (webhook.Sender.CheckTarget),
// because it needs the network and the operator's settings.
func (n NewSubscription) Validate() error {
	if err := ValidateTargetURL(n.TargetURL); err != nil {
		return err
	}
	if len(n.EventTypes) > MaxEventTypePatterns {
		return Invalid("event_types", "event_types may hold at most %d patterns, got %d", MaxEventTypePatterns, len(n.EventTypes))
	}
	for i, p := range n.EventTypes {
		if err := ValidateTypePattern(fmt.Sprintf("event_types[%d]", i), p); err != nil {
			return err
		}
	}
	return nil
}

// Build returns the active Subscription for validated input, created at now
// with the given id and secret. Duplicate patterns are dropped (first
// occurrence kept) and EventTypes is never nil, so it marshals as [].
func (n NewSubscription) Build(id, secret string, now time.Time) Subscription {
	now = Timestamp(now)
	types := make([]string, 0, len(n.EventTypes))
	for _, p := range n.EventTypes {
		if !slices.Contains(types, p) {
			types = append(types, p)
		}
	}
	return Subscription{
		ID:         id,
		TargetURL:  n.TargetURL,
		EventTypes: types,
		Secret:     secret,
		Status:     SubscriptionActive,
		CreatedAt:  now,
		UpdatedAt:  now,
	}
}

// ValidateTypePattern checks one event_types entry: the same rules as an
// event type (ValidateName), and "*" only as the last character, where it
// makes the pattern a prefix match (see MatchType).
func ValidateTypePattern(field, p string) error {
	if err := ValidateName(field, p, MaxTypeLen); err != nil {
		return err
	}
	if i := strings.IndexByte(p, '*'); i >= 0 && i != len(p)-1 {
		return Invalid(field, "%s may contain \"*\" only as its last character (a prefix wildcard such as \"order.*\")", field)
	}
	return nil
}

// ValidateTargetURL checks a webhook target URL's syntax: at most
// MaxTargetURLLen bytes of printable ASCII (internationalised host names
// must be sent in their punycode form, other characters percent-encoded), an
// absolute http or https URL with a host, no user info (credentials in a URL
// end up in logs and proxies; receivers authenticate us by the signature),
// and no fragment (it is never sent). The host must be a DNS name or a
// canonical IP literal: forms such as "127.1" or "0x7f000001", which some
// resolvers read as addresses, are refused so the address check cannot be
// talked around.
func ValidateTargetURL(raw string) error {
	const field = "target_url"
	switch {
	case raw == "":
		return Invalid(field, "target_url is required")
	case len(raw) > MaxTargetURLLen:
		return Invalid(field, "target_url must be at most %d bytes, got %d", MaxTargetURLLen, len(raw))
	case strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r >= 0x7f }):
		return Invalid(field, "target_url must be printable ASCII without spaces (percent-encode the rest, punycode the host)")
	case strings.Contains(raw, "#"):
		return Invalid(field, "target_url must not have a fragment")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Invalid(field, "target_url is not a valid URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return Invalid(field, "target_url must be an absolute http or https URL")
	case u.Opaque != "" || u.Host == "":
		return Invalid(field, "target_url must be an absolute http or https URL with a host")
	case u.User != nil:
		return Invalid(field, "target_url must not contain a user name or password")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return Invalid(field, "target_url port must be between 1 and 65535")
		}
	}
	return validateHost(field, u.Hostname())
}

// validateHost accepts a canonical IP literal or a DNS name of letters,
// digits, hyphens and underscores in dot-separated labels.
func validateHost(field, host string) error {
	if strings.Contains(host, ":") || strings.Contains(host, "%") { // IPv6 literal (brackets already removed)
		a, err := netip.ParseAddr(host)
		if err != nil || a.Zone() != "" || !a.Is6() {
			return Invalid(field, "target_url host is not a valid IPv6 address (zones are not allowed)")
		}
		return nil
	}
	name := strings.TrimSuffix(host, ".")
	if name == "" || len(name) > 253 {
		return Invalid(field, "target_url host must be a DNS name or an IP address")
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.ContainsFunc(l, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) {
			return Invalid(field, "target_url host must be a DNS name or an IP address")
		}
	}
	// A top-level label is never all digits, nor hex like "0x7f"; a host
	// whose last label looks numeric must be a canonical dotted-quad.
	last := strings.ToLower(labels[len(labels)-1])
	if strings.HasPrefix(last, "0x") || strings.Trim(last, "0123456789") == "" {
		if a, err := netip.ParseAddr(name); err != nil || !a.Is4() {
			return Invalid(field, "target_url host must be a DNS name or a canonical IPv4 address")
		}
	}
	return nil
}

// ParseSubscriptionID returns the canonical form of a subscription id
// (subscription ids are UUIDv7, like event ids), or CodeNotFound.
func ParseSubscriptionID(s string) (string, error) {
	id, err := ParseID(s)
	if err != nil {
		return "", NotFound("subscription", s)
	}
	return id, nil
}

// NewSecret returns a fresh signing secret: SecretPrefix and the standard
// base64 of 32 bytes from crypto/rand.
func NewSecret() string {
	var key [32]byte
	_, _ = rand.Read(key[:]) // crypto/rand.Read never fails (Go 1.24+)
	return SecretPrefix + base64.StdEncoding.EncodeToString(key[:])
}

// DeliveryID names the delivery of one event to one subscription. It is
// deterministic, so a change record seen twice yields the same delivery and
// is delivered once; it is sent as the Standard Webhooks webhook-id, the same
// on every retry, so receivers can drop duplicates. It is "msg_" and 32
// lowercase base32 characters (160 bits of SHA-256 over both ids).
func DeliveryID(eventID, subscriptionID string) string {
	sum := sha256.Sum256([]byte(eventID + "\n" + subscriptionID))
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:20]))
}

// Outcome classifies one delivery attempt.
type Outcome string

// The outcomes of an attempt.
const (
	// OutcomeSuccess: the receiver answered 2xx.
	OutcomeSuccess Outcome = "success"
	// OutcomeRetry: a network error, a timeout, 408, 429 or 5xx; the
	// delivery is tried again later.
	OutcomeRetry Outcome = "retry"
	// OutcomeGone: the receiver answered 410; the subscription is deleted
	// at once (the REST hooks rule Zapier follows).
	OutcomeGone Outcome = "gone"
	// OutcomeFailed: any other answer (3xx, 4xx) or a refused target; not
	// retried.
	OutcomeFailed Outcome = "failed"
)

// Attempt records one try at a delivery, as listed by
// GET /subscriptions/{id}/deliveries.
type Attempt struct {
	DeliveryID     string        `json:"delivery_id"`
	SubscriptionID string        `json:"subscription_id"`
	EventID        string        `json:"event_id"`
	N              int           `json:"attempt"` // 1 for the first try
	At             time.Time     `json:"at"`      // when the request started
	StatusCode     int           `json:"status_code,omitempty"`
	Latency        time.Duration `json:"-"`               // marshalled as latency_ms
	Error          string        `json:"error,omitempty"` // client-safe
	Outcome        Outcome       `json:"outcome"`
}

// attemptFields is Attempt without its methods, for MarshalJSON.
type attemptFields Attempt

// MarshalJSON writes the attempt with its latency as latency_ms, a number
// of milliseconds with microsecond precision, which any client can read.
func (a Attempt) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		attemptFields
		LatencyMS float64 `json:"latency_ms"`
	}{attemptFields(a), float64(a.Latency.Microseconds()) / 1000})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (a *Attempt) UnmarshalJSON(b []byte) error {
	var v struct {
		attemptFields
		LatencyMS float64 `json:"latency_ms"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*a = Attempt(v.attemptFields)
	a.Latency = time.Duration(math.Round(v.LatencyMS*1000)) * time.Microsecond
	return nil
}

// DeliveryState is where a delivery is in its lifecycle.
type DeliveryState string

// The delivery states. Pending is the only one that changes again.
const (
	// DeliveryPending: waiting for its first or next attempt.
	DeliveryPending DeliveryState = "pending"
	// DeliverySucceeded: an attempt got a 2xx.
	DeliverySucceeded DeliveryState = "succeeded"
	// DeliveryFailed: an attempt got an answer that is not retried
	// (3xx, 4xx, 410, a refused target).
	DeliveryFailed DeliveryState = "failed"
	// DeliveryDead: every attempt the retry policy allows failed. The
	// delivery log is where a dead delivery is found: on AWS it is not
	// copied to the retry queue's dead-letter queue, which holds only
	// messages the deliver function could not process.
	DeliveryDead DeliveryState = "dead"
)

// Delivery is the state of one event's delivery to one subscription.
type Delivery struct {
	ID             string        `json:"id"` // DeliveryID(EventID, SubscriptionID)
	SubscriptionID string        `json:"subscription_id"`
	EventID        string        `json:"event_id"`
	State          DeliveryState `json:"state"`
	Attempts       int           `json:"attempts"` // attempts made so far
	// NextAttemptAt is when a pending delivery is due; zero otherwise.
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// NewDelivery returns the pending delivery of an event to a subscription,
// due at once.
func NewDelivery(eventID, subscriptionID string, now time.Time) Delivery {
	now = Timestamp(now)
	return Delivery{
		ID:             DeliveryID(eventID, subscriptionID),
		SubscriptionID: subscriptionID,
		EventID:        eventID,
		State:          DeliveryPending,
		NextAttemptAt:  now,
		CreatedAt:      now,
		UpdatedAt:      now,
	}
}

// Supersedes reports whether d, a delivery as an attempt left it, may
// replace stored, the same delivery as a store holds it: when d has made
// more attempts, or as many and ends a delivery stored as still pending.
// So the delivery never moves back: a retry never reopens a delivery that
// another copy of the same attempt ended, and a late older attempt never
// overwrites a newer one.
func (d Delivery) Supersedes(stored Delivery) bool {
	return d.Attempts > stored.Attempts ||
		d.Attempts == stored.Attempts && stored.State == DeliveryPending && d.State != DeliveryPending
}

// SubscriptionStore keeps subscriptions. The method names carry the noun
// because one store type implements Store and SubscriptionStore together.
//
// Errors are *Error values; any method may also return CodeUnavailable and
// CodeInternal, as for Store. Implementations are safe for concurrent use and
// take times (UpdatedAt) from their own injected clock.
type SubscriptionStore interface {
	// CreateSubscription durably stores a new, validated subscription
	// (NewSubscription.Build). CodeInvalid (Field "subscriptions") when
	// MaxSubscriptions already exist.
	CreateSubscription(ctx context.Context, s Subscription) error

	// GetSubscription returns the subscription with the given canonical id.
	// CodeNotFound if there is none.
	GetSubscription(ctx context.Context, id string) (Subscription, error)

	// ListSubscriptions returns every subscription, active and disabled,
	// oldest first (at most MaxSubscriptions of them).
	ListSubscriptions(ctx context.Context) ([]Subscription, error)

	// DeleteSubscription removes a subscription; deliveries not yet made
	// to it are dropped by the deliverer when it finds it gone. CodeNotFound
	// if there is none (so a repeated DELETE is a 404).
	DeleteSubscription(ctx context.Context, id string) error

	// DisableSubscription marks a subscription disabled with a client-safe
	// reason and returns it, as a conditional transition: when several
	// calls race, exactly one returns disabled=true. Disabling a disabled
	// one returns it unchanged (the first reason kept) with disabled=false.
	// CodeNotFound if there is none.
	DisableSubscription(ctx context.Context, id, reason string) (s Subscription, disabled bool, err error)
}

// DeliveryLog keeps deliveries and their attempts. Attempts and deliveries
// may expire with the event retention period.
//
// Errors are as for SubscriptionStore.
type DeliveryLog interface {
	// ClaimDelivery stores d (a NewDelivery) unless a delivery with d.ID
	// already exists, and returns the stored one and created=true, or the
	// existing one unchanged and created=false. A change record seen twice
	// therefore yields one delivery: the caller hands it to the deliverer
	// only when created, or when the existing one is still pending and due
	// (a crash came between claiming and handing it over).
	ClaimDelivery(ctx context.Context, d Delivery) (stored Delivery, created bool, err error)

	// RecordAttempt durably appends a and saves d, the delivery's state
	// after that attempt, in one write. The delivery never moves back: d
	// is saved only if it supersedes the stored delivery (see
	// Delivery.Supersedes), so two copies of one attempt (a queue message
	// handled twice at once) or an older attempt recorded late leave the
	// newer state in place; a is appended either way.
	RecordAttempt(ctx context.Context, d Delivery, a Attempt) error

	// ListAttempts returns the attempts made for a subscription, newest
	// first, at most limit (1..MaxListLimit; anything else means
	// MaxListLimit). An unknown subscription has none: an empty slice.
	ListAttempts(ctx context.Context, subscriptionID string, limit int) ([]Attempt, error)
}

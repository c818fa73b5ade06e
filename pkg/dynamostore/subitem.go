package dynamostore

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/triggershq/triggers/pkg/event"
)

// Item kinds of subscriptions and deliveries (see docs/dynamodb.md). None
// has the EVT# prefix, so the stream consumer ignores their records, and
// none carries a pending-index key.
const (
	// SubscriptionKeyPrefix starts the pk of the subscriptions' partition
	// and of each subscription's attempt collection.
	SubscriptionKeyPrefix = "SUB#"
	// DeliveryKeyPrefix starts the pk of every delivery item.
	DeliveryKeyPrefix = "DLV#"

	subsPK        = SubscriptionKeyPrefix + "ALL" // every subscription: one partition, at most MaxSubscriptions items
	subSKPrefix   = "SUB#"                        // sk of a subscription item: SUB#<id>
	subCountSK    = "COUNT"                       // sk of the subscription counter
	deliverySK    = "DLV"
	attemptPrefix = "ATT#" // sk of an attempt: ATT#<at>#<delivery id>#<n>
)

// Attribute names of subscription, delivery and attempt items.
const (
	attrTargetURL      = "target_url"
	attrEventTypes     = "event_types"
	attrSecret         = "secret"
	attrDisabledReason = "disabled_reason"
	attrCount          = "n"
	attrSubscriptionID = "subscription_id"
	attrEventID        = "event_id"
	attrDeliveryID     = "delivery_id"
	attrState          = "state"
	attrAttempts       = "attempts"
	attrNextAttemptAt  = "next_attempt_at"
	attrClaim          = "claim"
	attrAttempt        = "attempt"
	attrAt             = "at"
	attrStatusCode     = "status_code"
	attrLatencyUS      = "latency_us"
	attrError          = "error"
	attrOutcome        = "outcome"
)

func subKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(subsPK), attrSK: str(subSKPrefix + id)}
}

var subCountKey = map[string]types.AttributeValue{attrPK: str(subsPK), attrSK: str(subCountSK)}

func deliveryKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(DeliveryKeyPrefix + id), attrSK: str(deliverySK)}
}

// attemptsPK is the partition of one subscription's attempts.
func attemptsPK(subID string) string { return SubscriptionKeyPrefix + subID }

// attemptSK sorts a subscription's attempts by time, then delivery and
// number: timeLayout is fixed width, delivery ids are too, and the number is
// zero-padded, so string order is time order.
func attemptSK(a *event.Attempt) string {
	return fmt.Sprintf("%s%s#%s#%06d", attemptPrefix, formatTime(a.At), a.DeliveryID, a.N)
}

func subItem(s *event.Subscription) map[string]types.AttributeValue {
	types_ := make([]types.AttributeValue, len(s.EventTypes))
	for i, t := range s.EventTypes {
		types_[i] = str(t)
	}
	item := subKey(s.ID)
	item[attrID] = str(s.ID)
	item[attrTargetURL] = str(s.TargetURL)
	item[attrEventTypes] = &types.AttributeValueMemberL{Value: types_}
	item[attrSecret] = str(s.Secret)
	item[attrStatus] = str(string(s.Status))
	item[attrCreatedAt] = str(formatTime(s.CreatedAt))
	item[attrUpdatedAt] = str(formatTime(s.UpdatedAt))
	if s.DisabledReason != "" {
		item[attrDisabledReason] = str(s.DisabledReason)
	}
	return item
}

// itemReader decodes attributes, keeping the first error.
type itemReader struct {
	item map[string]types.AttributeValue
	kind string
	err  error
}

func (r *itemReader) str(name string, required bool) string {
	if r.err != nil {
		return ""
	}
	v, ok := r.item[name]
	if !ok {
		if required {
			r.err = fmt.Errorf("%s item: missing attribute %q", r.kind, name)
		}
		return ""
	}
	s, ok := v.(*types.AttributeValueMemberS)
	if !ok {
		r.err = fmt.Errorf("%s item: attribute %q is %T, want a string", r.kind, name, v)
		return ""
	}
	return s.Value
}

func (r *itemReader) time(name string, required bool) time.Time {
	s := r.str(name, required)
	if r.err != nil || s == "" {
		return time.Time{}
	}
	t, err := parseTime(s)
	if err != nil {
		r.err = fmt.Errorf("%s item: attribute %q: %w", r.kind, name, err)
	}
	return t
}

func (r *itemReader) int(name string, required bool) int64 {
	if r.err != nil {
		return 0
	}
	v, ok := r.item[name]
	if !ok {
		if required {
			r.err = fmt.Errorf("%s item: missing attribute %q", r.kind, name)
		}
		return 0
	}
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		r.err = fmt.Errorf("%s item: attribute %q is %T, want a number", r.kind, name, v)
		return 0
	}
	i, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		r.err = fmt.Errorf("%s item: attribute %q: %w", r.kind, name, err)
	}
	return i
}

func (r *itemReader) strings(name string) []string {
	out := []string{}
	if r.err != nil {
		return out
	}
	l, ok := r.item[name].(*types.AttributeValueMemberL)
	if !ok {
		r.err = fmt.Errorf("%s item: attribute %q is missing or not a list", r.kind, name)
		return out
	}
	for _, v := range l.Value {
		s, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			r.err = fmt.Errorf("%s item: attribute %q holds a %T", r.kind, name, v)
			return out
		}
		out = append(out, s.Value)
	}
	return out
}

func subFromItem(item map[string]types.AttributeValue) (event.Subscription, error) {
	r := itemReader{item: item, kind: "subscription"}
	s := event.Subscription{
		ID:             r.str(attrID, true),
		TargetURL:      r.str(attrTargetURL, true),
		EventTypes:     r.strings(attrEventTypes),
		Secret:         r.str(attrSecret, true),
		Status:         event.SubscriptionStatus(r.str(attrStatus, true)),
		DisabledReason: r.str(attrDisabledReason, false),
		CreatedAt:      r.time(attrCreatedAt, true),
		UpdatedAt:      r.time(attrUpdatedAt, true),
	}
	return s, r.err
}

// deliveryItem is the item ClaimDelivery writes; claim is the writer's
// nonce (see ClaimDelivery).
func deliveryItem(d *event.Delivery, expires time.Time, claim string) map[string]types.AttributeValue {
	item := deliveryKey(d.ID)
	item[attrID] = str(d.ID)
	item[attrSubscriptionID] = str(d.SubscriptionID)
	item[attrEventID] = str(d.EventID)
	item[attrState] = str(string(d.State))
	item[attrAttempts] = num(int64(d.Attempts))
	item[attrCreatedAt] = str(formatTime(d.CreatedAt))
	item[attrUpdatedAt] = str(formatTime(d.UpdatedAt))
	item[attrExpiresAt] = str(formatTime(expires))
	item[attrTTL] = num(ttlSeconds(expires))
	item[attrClaim] = str(claim)
	if !d.NextAttemptAt.IsZero() {
		item[attrNextAttemptAt] = str(formatTime(d.NextAttemptAt))
	}
	return item
}

func deliveryFromItem(item map[string]types.AttributeValue) (event.Delivery, error) {
	r := itemReader{item: item, kind: "delivery"}
	d := event.Delivery{
		ID:             r.str(attrID, true),
		SubscriptionID: r.str(attrSubscriptionID, true),
		EventID:        r.str(attrEventID, true),
		State:          event.DeliveryState(r.str(attrState, true)),
		Attempts:       int(r.int(attrAttempts, true)),
		NextAttemptAt:  r.time(attrNextAttemptAt, false),
		CreatedAt:      r.time(attrCreatedAt, true),
		UpdatedAt:      r.time(attrUpdatedAt, true),
	}
	return d, r.err
}

func attemptItem(a *event.Attempt, expires time.Time) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		attrPK:             str(attemptsPK(a.SubscriptionID)),
		attrSK:             str(attemptSK(a)),
		attrDeliveryID:     str(a.DeliveryID),
		attrSubscriptionID: str(a.SubscriptionID),
		attrEventID:        str(a.EventID),
		attrAttempt:        num(int64(a.N)),
		attrAt:             str(formatTime(a.At)),
		attrLatencyUS:      num(a.Latency.Microseconds()),
		attrOutcome:        str(string(a.Outcome)),
		attrExpiresAt:      str(formatTime(expires)),
		attrTTL:            num(ttlSeconds(expires)),
	}
	if a.StatusCode != 0 {
		item[attrStatusCode] = num(int64(a.StatusCode))
	}
	if a.Error != "" {
		item[attrError] = str(a.Error)
	}
	return item
}

func attemptFromItem(item map[string]types.AttributeValue) (event.Attempt, time.Time, error) {
	r := itemReader{item: item, kind: "attempt"}
	a := event.Attempt{
		DeliveryID:     r.str(attrDeliveryID, true),
		SubscriptionID: r.str(attrSubscriptionID, true),
		EventID:        r.str(attrEventID, true),
		N:              int(r.int(attrAttempt, true)),
		At:             r.time(attrAt, true),
		StatusCode:     int(r.int(attrStatusCode, false)),
		Latency:        time.Duration(r.int(attrLatencyUS, true)) * time.Microsecond,
		Error:          r.str(attrError, false),
		Outcome:        event.Outcome(r.str(attrOutcome, true)),
	}
	expires := r.time(attrExpiresAt, true)
	return a, expires, r.err
}

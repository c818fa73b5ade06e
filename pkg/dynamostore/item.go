package dynamostore

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/triggershq/triggers/pkg/event"
)

// Key and attribute names. They are part of the table layout shared with the
// CDK stack and the stream consumer: change them only together.
const (
	attrPK     = "pk"
	attrSK     = "sk"
	attrTTL    = "ttl"
	attrGSI1PK = "gsi1pk"
	attrGSI1SK = "gsi1sk"
	attrGSI2PK = "gsi2pk"
	attrGSI2SK = "gsi2sk"

	attrID          = "id"
	attrType        = "type"
	attrSource      = "source"
	attrPayload     = "payload"
	attrStatus      = "status"
	attrCreatedAt   = "created_at"
	attrUpdatedAt   = "updated_at"
	attrExpiresAt   = "expires_at"
	attrIdemKey     = "idem_key"
	attrFingerprint = "fingerprint"
)

// Index names and key prefixes (see docs/dynamodb.md).
const (
	indexPending       = "gsi1"
	indexPendingByType = "gsi2"

	// EventKeyPrefix starts the pk of every event item; the stream consumer
	// keeps only records whose pk has it.
	EventKeyPrefix = "EVT#"
	eventSK        = "EVT"
	idemKeyPrefix  = "IDEM#"
	idemSK         = "IDEM"
	pendingPrefix  = "PENDING#"
	pTypePrefix    = "PTYPE#"
)

// timeLayout is fixed width (always six fractional digits, always UTC), so
// stored times compare correctly as strings: conditions such as
// "expires_at <= :now" run inside DynamoDB at microsecond precision.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) { return time.Parse(timeLayout, s) }

// eventKey is the primary key of the event with canonical id.
func eventKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(EventKeyPrefix + id), attrSK: str(eventSK)}
}

// idemKey is the primary key of the item that reserves an idempotency key.
func idemKey(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(idemKeyPrefix + key), attrSK: str(idemSK)}
}

// shardOf spreads events over n index partitions. The id's low bits are
// random, so FNV of the id is uniform; the shard never changes for an event.
func shardOf(id string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(n))
}

func pendingPK(shard int) string { return pendingPrefix + strconv.Itoa(shard) }

// pTypePK is unambiguous although types may contain '#': the shard, after
// the last '#', is always digits, and we only ever build keys, never split them.
func pTypePK(typ string, shard int) string { return pTypePrefix + typ + "#" + strconv.Itoa(shard) }

// eventAttrs returns the attributes that describe e, common to the event item
// and its idempotency copy.
func eventAttrs(e event.Event) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		attrID:        str(e.ID),
		attrType:      str(e.Type),
		attrSource:    str(e.Source),
		attrPayload:   str(string(e.Payload)), // raw JSON text, never a DynamoDB map
		attrStatus:    str(string(e.Status)),
		attrCreatedAt: str(formatTime(e.CreatedAt)),
		attrUpdatedAt: str(formatTime(e.UpdatedAt)),
	}
	if !e.ExpiresAt.IsZero() {
		item[attrExpiresAt] = str(formatTime(e.ExpiresAt))
		item[attrTTL] = num(ttlSeconds(e.ExpiresAt))
	}
	if e.IdempotencyKey != "" {
		item[attrIdemKey] = str(e.IdempotencyKey)
	}
	if e.Fingerprint != "" {
		item[attrFingerprint] = str(e.Fingerprint)
	}
	return item
}

// ttlSeconds rounds up, so DynamoDB never deletes an item before its
// expires_at: TTL is housekeeping, expires_at is the truth reads check.
func ttlSeconds(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// eventItem is the item for e. A pending event also carries the keys of both
// sparse pending indexes; Ack removes them.
func eventItem(e event.Event, shards int) map[string]types.AttributeValue {
	item := eventAttrs(e)
	item[attrPK] = str(EventKeyPrefix + e.ID)
	item[attrSK] = str(eventSK)
	if e.Status == event.StatusPending {
		shard := shardOf(e.ID, shards)
		item[attrGSI1PK] = str(pendingPK(shard))
		item[attrGSI1SK] = str(e.ID)
		item[attrGSI2PK] = str(pTypePK(e.Type, shard))
		item[attrGSI2SK] = str(e.ID)
	}
	return item
}

// idemItem reserves e.IdempotencyKey and holds a full copy of e, so a replay
// can answer, and heal a missing event item, from this item alone.
func idemItem(e event.Event) map[string]types.AttributeValue {
	item := eventAttrs(e)
	item[attrPK] = str(idemKeyPrefix + e.IdempotencyKey)
	item[attrSK] = str(idemSK)
	return item
}

// EventFromItem decodes an event item, or its idempotency copy, as the store
// writes them. The stream consumer uses it on NEW_AND_OLD_IMAGES records, so
// the attribute layout has exactly one decoder.
func EventFromItem(item map[string]types.AttributeValue) (event.Event, error) {
	var (
		e   event.Event
		err error
	)
	field := func(name string, required bool) string {
		if err != nil {
			return ""
		}
		v, ok := item[name]
		if !ok {
			if required {
				err = fmt.Errorf("event item: missing attribute %q", name)
			}
			return ""
		}
		s, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			err = fmt.Errorf("event item: attribute %q is %T, want a string", name, v)
			return ""
		}
		return s.Value
	}
	timeField := func(name string, required bool) time.Time {
		s := field(name, required)
		if err != nil || s == "" {
			return time.Time{}
		}
		t, perr := parseTime(s)
		if perr != nil {
			err = fmt.Errorf("event item: attribute %q: %w", name, perr)
		}
		return t
	}
	e.ID = field(attrID, true)
	e.Type = field(attrType, true)
	e.Source = field(attrSource, true)
	payload := field(attrPayload, true)
	e.Status = event.Status(field(attrStatus, true))
	e.CreatedAt = timeField(attrCreatedAt, true)
	e.UpdatedAt = timeField(attrUpdatedAt, true)
	e.ExpiresAt = timeField(attrExpiresAt, false)
	e.IdempotencyKey = field(attrIdemKey, false)
	e.Fingerprint = field(attrFingerprint, false)
	if err != nil {
		return event.Event{}, err
	}
	if e.Status != event.StatusPending && e.Status != event.StatusDelivered {
		return event.Event{}, fmt.Errorf("event item %s: unknown status %q", e.ID, e.Status)
	}
	e.Payload = json.RawMessage(payload)
	return e, nil
}

// IsEventItem reports whether a stream image or item is an event (not an
// idempotency, rate-limit or other item sharing the table).
func IsEventItem(item map[string]types.AttributeValue) bool {
	pk, ok := item[attrPK].(*types.AttributeValueMemberS)
	return ok && strings.HasPrefix(pk.Value, EventKeyPrefix)
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// stringAttr returns item[name] if it is a string attribute.
func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

package dynamostore

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/triggershq/triggers/pkg/event"
)

// Internals the external tests need to aim at exact boundaries.

// ShardOf is shardOf.
func ShardOf(id string, n int) int { return shardOf(id, n) }

// StoredSizes returns the sizes, by DynamoDB's rule, of the items Put writes
// for e: the event item and (with an idempotency key) the reservation.
func StoredSizes(e event.Event, shards int) (eventBytes, idemBytes int) {
	e, _ = normalize(e)
	eventBytes = itemSize(eventItem(e, shards))
	if e.IdempotencyKey != "" {
		idemBytes = itemSize(idemItem(e))
	}
	return eventBytes, idemBytes
}

// ItemOf is the event item Put writes for e.
func ItemOf(e event.Event, shards int) map[string]types.AttributeValue {
	return eventItem(e, shards)
}

// ItemSize is itemSize.
func ItemSize(item map[string]types.AttributeValue) int { return itemSize(item) }

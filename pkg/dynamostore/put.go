package dynamostore

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/triggershq/triggers/pkg/event"
)

// Put implements event.Store.
//
// Without an idempotency key it is one conditional PutItem
// (attribute_not_exists). With one, it is two single-item writes and no
// transaction: first the IDEM#<key> item, holding a full copy of the event,
// written only if no live item holds the key; then the event item. A crash
// between the two leaves a reservation without its event; the next Put with
// the same key and body finds the reservation, sees the event item missing
// and writes it from the copy (healing), so the producer's retry — which it
// makes because it never got its 201 — completes the original write.
func (s *Store) Put(ctx context.Context, e event.Event) (event.Event, bool, error) {
	if err := s.check(); err != nil {
		return event.Event{}, false, err
	}
	e, err := normalize(e)
	if err != nil {
		return event.Event{}, false, err
	}
	item := eventItem(e, s.shards)
	if err := checkSize(item); err != nil {
		return event.Event{}, false, err
	}
	if e.IdempotencyKey == "" {
		stored, err := s.putEvent(ctx, e, item)
		return stored, false, err
	}
	idem := idemItem(e)
	if err := checkSize(idem); err != nil {
		return event.Event{}, false, err
	}
	return s.putIdempotent(ctx, e, item, idem)
}

func (s *Store) putIdempotent(ctx context.Context, e event.Event, item, idem map[string]types.AttributeValue) (event.Event, bool, error) {
	op := fmt.Sprintf("put %s (idempotency key)", e.ID)
	// Two rounds at most: the second only if the holder of the key expired
	// or vanished between our write and our read.
	for range 2 {
		now := formatTime(event.Timestamp(s.now()))
		out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: s.table,
			Item:      idem,
			// A key whose event has expired is free again, even while TTL
			// has not yet deleted its item.
			ConditionExpression:                 aws.String("attribute_not_exists(#pk) OR #exp <= :now"),
			ExpressionAttributeNames:            map[string]string{"#pk": attrPK, "#exp": attrExpiresAt},
			ExpressionAttributeValues:           map[string]types.AttributeValue{":now": str(now)},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			ReturnConsumedCapacity:              s.capacityMode(),
		})
		if err == nil {
			s.report("put.idem", out.ConsumedCapacity)
			stored, err := s.putEvent(ctx, e, item)
			return stored, false, err
		}
		ccf, ok := conditionFailed(err)
		if !ok {
			return event.Event{}, false, fmt.Errorf("%s: %w", op, storeError("PutItem", err))
		}
		held := ccf.Item
		if len(held) == 0 {
			if held, err = s.getItem(ctx, "put.idem", idemKey(e.IdempotencyKey)); err != nil {
				return event.Event{}, false, fmt.Errorf("%s: %w", op, err)
			}
			if held == nil {
				continue
			}
		}
		orig, err := decodeEvent(op, held)
		if err != nil {
			return event.Event{}, false, err
		}
		switch {
		case orig.ID == e.ID:
			// Our own reservation: an earlier attempt of this very call
			// succeeded but its response was lost, and the SDK retried.
			stored, err := s.putEvent(ctx, e, item)
			return stored, false, err
		case orig.Expired(s.now()):
			continue
		case orig.Fingerprint != e.Fingerprint:
			return event.Event{}, false, &event.Error{Code: event.CodeConflict, Field: "Idempotency-Key",
				Message: "this Idempotency-Key was already used with a different request"}
		}
		stored, err := s.replay(ctx, orig)
		return stored, err == nil, err
	}
	return event.Event{}, false, event.Internal(op, fmt.Errorf("idempotency key item kept changing"))
}

// replay returns the event that holds an idempotency key, as it is now
// (perhaps delivered), writing it from the reservation's copy if the event
// item is missing because a writer crashed between the two writes.
func (s *Store) replay(ctx context.Context, orig event.Event) (event.Event, error) {
	op := "put replay " + orig.ID
	cur, err := s.getItem(ctx, "put.replay", eventKey(orig.ID))
	if err != nil {
		return event.Event{}, fmt.Errorf("%s: %w", op, err)
	}
	if cur != nil {
		return decodeEvent(op, cur)
	}
	return s.putEvent(ctx, orig, eventItem(orig, s.shards))
}

// putEvent writes a new event item. A condition failure means the item is
// already there; if it is this very event (same id and fingerprint: an SDK
// retry of a write whose response was lost, or a concurrent heal) that is
// success. Ids are random, so anything else is a bug worth a 500.
func (s *Store) putEvent(ctx context.Context, e event.Event, item map[string]types.AttributeValue) (event.Event, error) {
	op := "put " + e.ID
	out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           s.table,
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            map[string]string{"#pk": attrPK},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              s.capacityMode(),
	})
	if err == nil {
		s.report("put", out.ConsumedCapacity)
		return e, nil
	}
	ccf, ok := conditionFailed(err)
	if !ok {
		return event.Event{}, fmt.Errorf("%s: %w", op, storeError("PutItem", err))
	}
	existing, derr := EventFromItem(ccf.Item)
	if derr == nil && existing.ID == e.ID && existing.Fingerprint == e.Fingerprint {
		return existing, nil
	}
	return event.Event{}, event.Internal(op, fmt.Errorf("an item with this event id already exists"))
}

// normalize puts e in the form the store keeps: canonical id, pending unless
// said otherwise, times as event.Timestamp.
func normalize(e event.Event) (event.Event, error) {
	id, err := event.ParseID(e.ID)
	if err != nil {
		return event.Event{}, event.Internal("put", fmt.Errorf("event id %q is not a UUIDv7", e.ID))
	}
	e.ID = id
	// The payload is stored as a String attribute, which must be UTF-8: the
	// SDK would otherwise replace bad bytes silently. NewEvent.Validate has
	// already refused such input; this keeps the store honest on its own.
	if !utf8.Valid(e.Payload) {
		return event.Event{}, event.Invalid("payload", "payload must be valid JSON in UTF-8")
	}
	if e.Status == "" {
		e.Status = event.StatusPending
	}
	e.CreatedAt = event.Timestamp(e.CreatedAt)
	e.UpdatedAt = event.Timestamp(e.UpdatedAt)
	if !e.ExpiresAt.IsZero() {
		e.ExpiresAt = event.Timestamp(e.ExpiresAt)
	}
	return e, nil
}

// checkSize rejects an item DynamoDB would refuse, before sending it.
func checkSize(item map[string]types.AttributeValue) error {
	if n := itemSize(item); n > MaxItemBytes {
		return &event.Error{Code: event.CodeTooLarge,
			Message: fmt.Sprintf("the event takes %d bytes as stored, over the store's limit of %d", n, MaxItemBytes)}
	}
	return nil
}

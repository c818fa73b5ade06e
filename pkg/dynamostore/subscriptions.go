package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/triggershq/triggers/pkg/event"
)

// CreateSubscription implements event.SubscriptionStore with two
// single-item conditional writes and no transaction (see docs/dynamodb.md,
// "Subscriptions"): first the counter item SUB#ALL/COUNT goes up by one on
// condition that it is below MaxSubscriptions, which is what makes the cap
// exact under concurrent creates; then the subscription item is put on
// condition that it does not exist. A failure between the two leaves the
// counter one too high, never too low, so the cap can only err towards
// refusing; reserveSlot repairs such a counter when the cap is met.
func (s *Store) CreateSubscription(ctx context.Context, sub event.Subscription) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := sub.Validate(); err != nil {
		return fmt.Errorf("create subscription: %w", err)
	}
	sub = sub.Normalized()
	op := "create subscription " + sub.ID
	if err := s.reserveSlot(ctx, op); err != nil {
		return err
	}
	out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           s.table,
		Item:                                subItem(&sub),
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            map[string]string{"#pk": attrPK},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              s.capacityMode(),
	})
	if err == nil {
		s.report("subscription.create", out.ConsumedCapacity)
		return nil
	}
	ccf, ok := conditionFailed(err)
	if !ok {
		// The put may or may not have happened: keep the slot, which
		// errs towards refusing (see reserveSlot).
		return fmt.Errorf("%s: %w", op, storeError("PutItem", err))
	}
	// The SDK retried a put whose response was lost and met its own item
	// (secrets are random, so an equal one is ours): done.
	if len(ccf.Item) > 0 && stringAttr(ccf.Item, attrSecret) == sub.Secret {
		return nil
	}
	s.releaseSlot(ctx)
	return event.Internal(op, errors.New("a subscription with this id already exists"))
}

// counterSettle is how long the subscription counter must have been
// unchanged before reserveSlot trusts a recount over it: a create between
// its two writes has raised the counter but its item is not there to count
// yet, and no create takes a minute between them (a Lambda's timeout is
// seconds).
const counterSettle = time.Minute

// reserveSlot raises the subscription counter below the cap, or returns
// the CodeInvalid cap error. At the cap, it counts the subscriptions; if
// there are fewer and the counter has settled, the counter leaked (a create
// or delete that failed between its two writes) and is set to the count,
// once, before trying again.
func (s *Store) reserveSlot(ctx context.Context, op string) error {
	full := event.Invalid("subscriptions", "there are already %d subscriptions, the most this server keeps; delete one first", event.MaxSubscriptions)
	for round := 0; ; round++ {
		now := formatTime(event.Timestamp(s.now()))
		out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                s.table,
			Key:                      subCountKey,
			UpdateExpression:         aws.String("SET #n = if_not_exists(#n, :zero) + :one, #at = :now"),
			ConditionExpression:      aws.String("attribute_not_exists(#n) OR #n < :max"),
			ExpressionAttributeNames: map[string]string{"#n": attrCount, "#at": attrUpdatedAt},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":zero": num(0), ":one": num(1), ":max": num(event.MaxSubscriptions), ":now": str(now),
			},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			ReturnConsumedCapacity:              s.capacityMode(),
		})
		if err == nil {
			s.report("subscription.count", out.ConsumedCapacity)
			return nil
		}
		ccf, ok := conditionFailed(err)
		if !ok {
			return fmt.Errorf("%s: %w", op, storeError("UpdateItem", err))
		}
		if round > 0 {
			return full
		}
		repaired, err := s.repairCount(ctx, ccf.Item)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if !repaired {
			return full
		}
	}
}

// repairCount sets the counter (whose current item is counter) to the
// number of subscription items, if that is lower and the counter has been
// unchanged for counterSettle. It reports whether it changed the counter.
func (s *Store) repairCount(ctx context.Context, counter map[string]types.AttributeValue) (bool, error) {
	r := itemReader{item: counter, kind: "subscription counter"}
	seen := r.int(attrCount, true)
	at := r.time(attrUpdatedAt, false)
	if r.err != nil || s.now().Sub(at) < counterSettle {
		return false, nil
	}
	n, err := s.countSubscriptions(ctx)
	if err != nil || int64(n) >= seen {
		return false, err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       subCountKey,
		UpdateExpression:          aws.String("SET #n = :n"),
		ConditionExpression:       aws.String("#n = :seen"),
		ExpressionAttributeNames:  map[string]string{"#n": attrCount},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": num(int64(n)), ":seen": num(seen)},
	})
	if _, ok := conditionFailed(err); ok {
		return false, nil // it moved: someone else is creating or repairing
	}
	if err != nil {
		return false, storeError("UpdateItem", err)
	}
	return true, nil
}

// countSubscriptions counts the subscription items with a strongly
// consistent Query that returns no attributes.
func (s *Store) countSubscriptions(ctx context.Context) (int, error) {
	in := s.subsQuery()
	in.Select = types.SelectCount
	n := 0
	for range 100 {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, storeError("Query", err)
		}
		s.report("subscription.recount", page.ConsumedCapacity)
		n += int(page.Count)
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return n, nil
}

// releaseSlot lowers the counter after a create that reserved a slot but
// stored nothing, or a delete. If it fails, the counter stays one too high
// until reserveSlot repairs it.
func (s *Store) releaseSlot(ctx context.Context) {
	_, _ = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       subCountKey,
		UpdateExpression:          aws.String("SET #n = #n - :one"),
		ConditionExpression:       aws.String("#n > :zero"),
		ExpressionAttributeNames:  map[string]string{"#n": attrCount},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":zero": num(0)},
	})
}

// GetSubscription implements event.SubscriptionStore with one strongly
// consistent GetItem, so a subscription is visible as soon as it is created.
func (s *Store) GetSubscription(ctx context.Context, id string) (event.Subscription, error) {
	if err := s.check(); err != nil {
		return event.Subscription{}, err
	}
	canon, err := event.ParseSubscriptionID(id)
	if err != nil {
		return event.Subscription{}, err
	}
	item, err := s.getItem(ctx, "subscription.get", subKey(canon))
	if err != nil {
		return event.Subscription{}, fmt.Errorf("get subscription %s: %w", canon, err)
	}
	if item == nil {
		return event.Subscription{}, event.NotFound("subscription", canon)
	}
	sub, err := subFromItem(item)
	if err != nil {
		return event.Subscription{}, event.Internal("get subscription "+canon, err)
	}
	return sub, nil
}

// ListSubscriptions implements event.SubscriptionStore: a strongly
// consistent Query of the SUB#ALL partition (at most MaxSubscriptions
// items of a few hundred bytes each, so one or two pages), sorted by
// creation time.
func (s *Store) ListSubscriptions(ctx context.Context) ([]event.Subscription, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	out := []event.Subscription{}
	in := s.subsQuery()
	// The cap bounds the partition; the page bound only guards against a
	// table someone filled by hand.
	for range 100 {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list subscriptions: %w", storeError("Query", err))
		}
		s.report("subscription.list", page.ConsumedCapacity)
		for _, item := range page.Items {
			sub, err := subFromItem(item)
			if err != nil {
				return nil, event.Internal("list subscriptions", err)
			}
			out = append(out, sub)
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	event.SortSubscriptions(out)
	return out, nil
}

// subsQuery reads the subscription items of the SUB#ALL partition (not
// the counter), strongly consistent.
func (s *Store) subsQuery() *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                 s.table,
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(subsPK), ":prefix": str(subSKPrefix)},
		ConsistentRead:            aws.Bool(true),
		ReturnConsumedCapacity:    s.capacityMode(),
	}
}

// DeleteSubscription implements event.SubscriptionStore: a conditional
// DeleteItem (attribute_exists), then the counter goes down by one. The
// subscription's attempts are left to expire with TTL.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	if err := s.check(); err != nil {
		return err
	}
	canon, err := event.ParseSubscriptionID(id)
	if err != nil {
		return err
	}
	out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                s.table,
		Key:                      subKey(canon),
		ConditionExpression:      aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
		ReturnConsumedCapacity:   s.capacityMode(),
	})
	if _, ok := conditionFailed(err); ok {
		return event.NotFound("subscription", canon)
	}
	if err != nil {
		return fmt.Errorf("delete subscription %s: %w", canon, storeError("DeleteItem", err))
	}
	s.report("subscription.delete", out.ConsumedCapacity)
	s.releaseSlot(ctx)
	return nil
}

// DisableSubscription implements event.SubscriptionStore with one
// conditional UpdateItem (status is active); when the condition fails, the
// old image it returns tells a disabled subscription (returned unchanged,
// disabled=false) from a missing one.
func (s *Store) DisableSubscription(ctx context.Context, id, reason string) (event.Subscription, bool, error) {
	if err := s.check(); err != nil {
		return event.Subscription{}, false, err
	}
	canon, err := event.ParseSubscriptionID(id)
	if err != nil {
		return event.Subscription{}, false, err
	}
	op := "disable subscription " + canon
	now := formatTime(event.Timestamp(s.now()))
	update := "SET #status = :disabled, #updated = :now"
	values := map[string]types.AttributeValue{
		":active": str(string(event.SubscriptionActive)), ":disabled": str(string(event.SubscriptionDisabled)), ":now": str(now),
	}
	names := map[string]string{"#status": attrStatus, "#updated": attrUpdatedAt}
	if reason != "" { // DynamoDB keys may not hold empty strings; an absent reason reads as ""
		update += ", #reason = :reason"
		values[":reason"] = str(reason)
		names["#reason"] = attrDisabledReason
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 subKey(canon),
		ConditionExpression:                 aws.String("#status = :active"),
		UpdateExpression:                    aws.String(update),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              s.capacityMode(),
	})
	item, disabled := map[string]types.AttributeValue(nil), err == nil
	if err == nil {
		s.report("subscription.disable", out.ConsumedCapacity)
		item = out.Attributes
	} else {
		ccf, ok := conditionFailed(err)
		if !ok {
			return event.Subscription{}, false, fmt.Errorf("%s: %w", op, storeError("UpdateItem", err))
		}
		if len(ccf.Item) == 0 {
			return event.Subscription{}, false, event.NotFound("subscription", canon)
		}
		item = ccf.Item
	}
	sub, err := subFromItem(item)
	if err != nil {
		return event.Subscription{}, false, event.Internal(op, err)
	}
	return sub, disabled, nil
}

package dynamostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/triggershq/triggers/pkg/event"
)

// ClaimDelivery implements event.DeliveryLog with one conditional PutItem
// (attribute_not_exists): of several racing claims exactly one writes. When
// the condition fails, the old image it returns is the existing delivery,
// so a repeated claim costs no second request.
//
// Each call writes a random nonce in the item. If the SDK retries a PutItem
// whose response was lost, the retry meets the item its own first attempt
// wrote; the nonce tells that apart from another claimer's item, so the
// caller still learns created=true and hands the delivery over exactly once.
func (s *Store) ClaimDelivery(ctx context.Context, d event.Delivery) (event.Delivery, bool, error) {
	if err := s.check(); err != nil {
		return event.Delivery{}, false, err
	}
	if err := d.Validate(); err != nil {
		return event.Delivery{}, false, fmt.Errorf("claim delivery: %w", err)
	}
	d = d.Normalized()
	op := "claim delivery " + d.ID
	var nonce [12]byte
	_, _ = rand.Read(nonce[:]) // crypto/rand.Read never fails (Go 1.24+)
	claim := hex.EncodeToString(nonce[:])
	out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           s.table,
		Item:                                deliveryItem(&d, d.CreatedAt.Add(s.retention), claim),
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            map[string]string{"#pk": attrPK},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              s.capacityMode(),
	})
	if err == nil {
		s.report("delivery.claim", out.ConsumedCapacity)
		return d, true, nil
	}
	ccf, ok := conditionFailed(err)
	if !ok {
		return event.Delivery{}, false, fmt.Errorf("%s: %w", op, storeError("PutItem", err))
	}
	held := ccf.Item
	if len(held) == 0 { // only an emulator would leave the old image out
		if held, err = s.getItem(ctx, "delivery.claim", deliveryKey(d.ID)); err != nil {
			return event.Delivery{}, false, fmt.Errorf("%s: %w", op, err)
		}
		if held == nil {
			return event.Delivery{}, false, event.Internal(op, fmt.Errorf("the delivery item vanished during the claim"))
		}
	}
	stored, err := deliveryFromItem(held)
	if err != nil {
		return event.Delivery{}, false, event.Internal(op, err)
	}
	return stored, stringAttr(held, attrClaim) == claim, nil
}

// RecordAttempt implements event.DeliveryLog with one TransactWriteItems
// of two items: an UpdateItem of the delivery (its new state; its
// expiry, claim nonce and creation time are kept if it exists) and a
// PutItem of the attempt in the subscription's collection
// SUB#<subscription id> / ATT#<at>#<delivery id>#<n>. A single write cannot
// do both: the attempts must be listed by subscription, newest first, and
// the table's only secondary indexes are the pending ones. It is not an
// ingest-path write, so the transaction's double cost is acceptable.
// The update's condition is event.Delivery.Supersedes; when only it fails,
// the attempt is put alone. Repeating the call (the SDK retrying a lost
// response) writes the same attempt again and leaves the delivery as it is.
func (s *Store) RecordAttempt(ctx context.Context, d event.Delivery, a event.Attempt) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := a.ValidateFor(d); err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	d, a = d.Normalized(), a.Normalized()
	op := fmt.Sprintf("record attempt %s #%d", d.ID, a.N)
	expires := d.CreatedAt.Add(s.retention)
	set := "SET #id = :id, #sub = :sub, #evt = :evt, #state = :state, #attempts = :attempts, #updated = :updated, " +
		"#created = if_not_exists(#created, :created), #exp = if_not_exists(#exp, :exp), #ttl = if_not_exists(#ttl, :ttl)"
	names := map[string]string{
		"#id": attrID, "#sub": attrSubscriptionID, "#evt": attrEventID, "#state": attrState, "#attempts": attrAttempts,
		"#updated": attrUpdatedAt, "#created": attrCreatedAt, "#exp": attrExpiresAt, "#ttl": attrTTL, "#next": attrNextAttemptAt,
	}
	values := map[string]types.AttributeValue{
		":id": str(d.ID), ":sub": str(d.SubscriptionID), ":evt": str(d.EventID), ":state": str(string(d.State)),
		":attempts": num(int64(d.Attempts)), ":updated": str(formatTime(d.UpdatedAt)), ":created": str(formatTime(d.CreatedAt)),
		":exp": str(formatTime(expires)), ":ttl": num(ttlSeconds(expires)),
	}
	update := set + " REMOVE #next"
	if !d.NextAttemptAt.IsZero() {
		update = set + ", #next = :next"
		values[":next"] = str(formatTime(d.NextAttemptAt))
	}
	// The condition is event.Delivery.Supersedes: more attempts than
	// stored, or as many and ending a delivery stored as pending.
	cond := "attribute_not_exists(#attempts) OR #attempts < :attempts"
	if d.State != event.DeliveryPending {
		cond += " OR (#attempts = :attempts AND #state = :pending)"
		values[":pending"] = str(string(event.DeliveryPending))
	}
	attempt := attemptItem(&a, a.At.Add(s.retention))
	if err := checkSize(attempt); err != nil {
		return err
	}
	reasons, err := s.transact(ctx, op, []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                 s.table,
			Key:                       deliveryKey(d.ID),
			UpdateExpression:          aws.String(update),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		}},
		{Put: &types.Put{TableName: s.table, Item: attempt}},
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	switch {
	case reasons == nil:
		return nil
	case len(reasons) == 2 && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" && reasonNone(reasons[1]):
		// The stored delivery is as new as d or newer: keep it, and
		// record the attempt, which happened, on its own.
		out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: s.table, Item: attempt, ReturnConsumedCapacity: s.capacityMode()})
		if err != nil {
			return fmt.Errorf("%s: %w", op, storeError("PutItem", err))
		}
		s.report("attempt.record", out.ConsumedCapacity)
		return nil
	}
	return event.Internal(op, fmt.Errorf("transaction cancelled: %s", reasonCodes(reasons)))
}

// reasonNone reports whether a cancellation reason says the item was not
// at fault (DynamoDB's code "None", or none at all).
func reasonNone(r types.CancellationReason) bool {
	c := aws.ToString(r.Code)
	return c == "" || c == "None"
}

// maxAttemptPages bounds the Query pages one ListAttempts reads. Expired
// attempts (TTL deletes them up to days late) are the oldest, so newest
// first they come last and rarely need a second page.
const maxAttemptPages = 5

// ListAttempts implements event.DeliveryLog: a strongly consistent Query
// of the subscription's collection, newest first, filtered on expires_at so
// attempts TTL has not deleted yet are never returned.
func (s *Store) ListAttempts(ctx context.Context, subscriptionID string, limit int) ([]event.Attempt, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if limit < 1 || limit > event.MaxListLimit {
		limit = event.MaxListLimit
	}
	out := []event.Attempt{}
	canon, err := event.ParseID(subscriptionID)
	if err != nil {
		return out, nil // an id that cannot exist has no attempts
	}
	now := event.Timestamp(s.now())
	in := &dynamodb.QueryInput{
		TableName:                 s.table,
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		FilterExpression:          aws.String("#exp > :now"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK, "#exp": attrExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(attemptsPK(canon)), ":prefix": str(attemptPrefix), ":now": str(formatTime(now))},
		ScanIndexForward:          aws.Bool(false),
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(int32(limit)),
		ReturnConsumedCapacity:    s.capacityMode(),
	}
	for range maxAttemptPages {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list attempts %s: %w", canon, storeError("Query", err))
		}
		s.report("attempt.list", page.ConsumedCapacity)
		for _, item := range page.Items {
			a, expires, err := attemptFromItem(item)
			if err != nil {
				return nil, event.Internal("list attempts "+canon, err)
			}
			if !expires.After(now) { // the filter did this already; keep reads honest on their own
				continue
			}
			out = append(out, a)
			if len(out) == limit {
				return out, nil
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return out, nil
}

// transactAttempts bounds how often a transaction cancelled by a
// TransactionConflict (another transaction or write on one of its items at
// the same moment, e.g. a duplicate SQS message's deliverer recording on the same delivery) is retried here;
// the SDK does not retry those.
const transactAttempts = 4

// transact runs TransactWriteItems. It returns the cancellation reasons,
// one per item, when DynamoDB cancelled the transaction for a condition
// that failed; nil reasons and a nil error mean it was applied. Conflicts
// are retried with jittered backoff, then reported as CodeUnavailable;
// throttling is CodeUnavailable at once.
func (s *Store) transact(ctx context.Context, op string, items []types.TransactWriteItem) ([]types.CancellationReason, error) {
	for attempt := 1; ; attempt++ {
		out, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems:          items,
			ReturnConsumedCapacity: s.capacityMode(),
		})
		if err == nil {
			for i := range out.ConsumedCapacity {
				s.report("attempt.record", &out.ConsumedCapacity[i])
			}
			return nil, nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return nil, storeError("TransactWriteItems", err)
		}
		// Throttling inside a transaction comes as a cancellation, which
		// the SDK does not retry: it is unavailability all the same.
		if hasReason(tce.CancellationReasons, "ThrottlingError") || hasReason(tce.CancellationReasons, "ProvisionedThroughputExceeded") {
			return nil, &event.Error{Code: event.CodeUnavailable, Message: "the database is busy, retry later",
				RetryAfterSeconds: retryAfterThrottled, Err: fmt.Errorf("%s: transaction throttled: %w", op, err)}
		}
		if !hasReason(tce.CancellationReasons, "TransactionConflict") {
			return tce.CancellationReasons, nil
		}
		if attempt == transactAttempts {
			return nil, &event.Error{Code: event.CodeUnavailable, Message: "the database is busy, retry later",
				RetryAfterSeconds: retryAfterThrottled, Err: fmt.Errorf("%s: transaction conflicts %d times: %w", op, attempt, err)}
		}
		wait := time.Duration(10<<attempt)*time.Millisecond + mathrand.N(10*time.Millisecond)
		select {
		case <-ctx.Done():
			return nil, storeError("TransactWriteItems", ctx.Err())
		case <-time.After(wait):
		}
	}
}

func hasReason(reasons []types.CancellationReason, code string) bool {
	return slices.ContainsFunc(reasons, func(r types.CancellationReason) bool { return aws.ToString(r.Code) == code })
}

func reasonCodes(reasons []types.CancellationReason) string {
	codes := make([]string, len(reasons))
	for i, r := range reasons {
		codes[i] = strconv.Quote(aws.ToString(r.Code))
	}
	return fmt.Sprint(codes)
}

package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/triggershq/triggers/pkg/event"
)

// Shard bounds. More shards spread ingest further but cost one more query
// per inbox poll each, and make the cursor longer.
const (
	DefaultPendingShards = 8
	MaxPendingShards     = 64
)

// Options configures a Store.
type Options struct {
	// Table is the table name (required).
	Table string
	// PendingShards is the number of partitions the pending indexes are
	// spread over (default 8, at most 64). It may be raised on a live table
	// (new events use the new shards, all are read) but never lowered:
	// pending events in shards beyond the new count would drop out of the
	// inbox. Cursors issued under another count are rejected.
	PendingShards int
	// Now is the clock for expiry and ack times (nil means time.Now).
	Now func() time.Time
	// Capacity, when set, makes every request ask DynamoDB for its consumed
	// capacity (ReturnConsumedCapacity INDEXES) and receives it, with the
	// operation name. For metrics and for the cost measurements in
	// docs/dynamodb.md.
	Capacity func(op string, cc *types.ConsumedCapacity)
	// DeliveryRetention is how long webhook deliveries and attempts are
	// kept (their expires_at and TTL). Zero means event.DefaultRetention;
	// set it to the event retention (TRIGGERS_RETENTION).
	DeliveryRetention time.Duration
}

// Store is the DynamoDB event.Store. It is safe for concurrent use.
type Store struct {
	db     *dynamodb.Client
	table  *string
	shards int
	now    func() time.Time
	cap    func(string, *types.ConsumedCapacity)
	closed atomic.Bool

	retention time.Duration // of deliveries and attempts
}

var (
	_ event.Store             = (*Store)(nil)
	_ event.SubscriptionStore = (*Store)(nil)
	_ event.DeliveryLog       = (*Store)(nil)
)

// New returns a Store on an existing table (see CreateTable). It makes no
// requests.
func New(client *dynamodb.Client, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("dynamostore: nil client")
	}
	if opts.Table == "" {
		return nil, errors.New("dynamostore: table name is required")
	}
	if opts.PendingShards == 0 {
		opts.PendingShards = DefaultPendingShards
	}
	if opts.PendingShards < 1 || opts.PendingShards > MaxPendingShards {
		return nil, fmt.Errorf("dynamostore: pending shards must be 1 to %d, got %d", MaxPendingShards, opts.PendingShards)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DeliveryRetention <= 0 {
		opts.DeliveryRetention = event.DefaultRetention
	}
	return &Store{
		db:     client,
		table:  aws.String(opts.Table),
		shards: opts.PendingShards,
		now:    opts.Now,
		cap:    opts.Capacity,

		retention: opts.DeliveryRetention,
	}, nil
}

// Get implements event.Store. It reads with strong consistency, so an event
// is visible to Get as soon as Put returned.
func (s *Store) Get(ctx context.Context, id string) (event.Event, error) {
	if err := s.check(); err != nil {
		return event.Event{}, err
	}
	id, err := event.ParseID(id)
	if err != nil {
		return event.Event{}, err
	}
	item, err := s.getItem(ctx, "get", eventKey(id))
	if err != nil {
		return event.Event{}, fmt.Errorf("get %s: %w", id, err)
	}
	if item == nil {
		return event.Event{}, event.NotFound("event", id)
	}
	e, err := decodeEvent("get "+id, item)
	if err != nil {
		return event.Event{}, err
	}
	if e.Expired(s.now()) {
		return event.Event{}, event.NotFound("event", id)
	}
	return e, nil
}

// Ack implements event.Store with one conditional UpdateItem: the condition
// (pending and unexpired) makes exactly one of several racing Acks win, and
// removing the index keys takes the event out of both sparse pending indexes
// in the same write.
func (s *Store) Ack(ctx context.Context, id string) (event.Event, bool, error) {
	if err := s.check(); err != nil {
		return event.Event{}, false, err
	}
	id, err := event.ParseID(id)
	if err != nil {
		return event.Event{}, false, err
	}
	now := formatTime(event.Timestamp(s.now()))
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           s.table,
		Key:                 eventKey(id),
		ConditionExpression: aws.String("#status = :pending AND (attribute_not_exists(#exp) OR #exp > :now)"),
		UpdateExpression:    aws.String("SET #status = :delivered, #updated = :now REMOVE #g1pk, #g1sk, #g2pk, #g2sk"),
		ExpressionAttributeNames: map[string]string{
			"#status": attrStatus, "#exp": attrExpiresAt, "#updated": attrUpdatedAt,
			"#g1pk": attrGSI1PK, "#g1sk": attrGSI1SK, "#g2pk": attrGSI2PK, "#g2sk": attrGSI2SK,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pending":   str(string(event.StatusPending)),
			":delivered": str(string(event.StatusDelivered)),
			":now":       str(now),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              s.capacityMode(),
	})
	if err == nil {
		s.report("ack", out.ConsumedCapacity)
		e, err := decodeEvent("ack "+id, out.Attributes)
		return e, err == nil, err
	}
	ccf, ok := conditionFailed(err)
	if !ok {
		return event.Event{}, false, fmt.Errorf("ack %s: %w", id, storeError("UpdateItem", err))
	}
	// Not pending, or expired, or absent: the old image says which.
	// (ReturnValuesOnConditionCheckFailure returns it when the item exists,
	// so an unknown id costs no second request.)
	if len(ccf.Item) == 0 {
		return event.Event{}, false, event.NotFound("event", id)
	}
	e, err := decodeEvent("ack "+id, ccf.Item)
	if err != nil {
		return event.Event{}, false, err
	}
	if e.Expired(s.now()) || e.Status != event.StatusDelivered {
		return event.Event{}, false, event.NotFound("event", id)
	}
	return e, false, nil
}

// pingKey is a key no item has: reading it proves the table is reachable,
// the credentials work and the role may read, for half a read unit, without
// the low request quota of the DescribeTable control-plane call.
var pingKey = map[string]types.AttributeValue{attrPK: str("PING#"), attrSK: str("PING")}

// Ping implements event.Store with one eventually consistent GetItem of a
// sentinel key (0.5 read units).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	_, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            s.table,
		Key:                  pingKey,
		ProjectionExpression: aws.String(attrPK),
	})
	if err != nil {
		return fmt.Errorf("ping: %w", storeError("GetItem", err))
	}
	return nil
}

// Close implements event.Store. The client belongs to the caller and stays
// open; later calls on the store fail with CodeUnavailable.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

func (s *Store) check() error {
	if s.closed.Load() {
		return &event.Error{Code: event.CodeUnavailable, Message: "the store is closed"}
	}
	return nil
}

// getItem reads one item with strong consistency; nil when there is none.
func (s *Store) getItem(ctx context.Context, op string, key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:              s.table,
		Key:                    key,
		ConsistentRead:         aws.Bool(true),
		ReturnConsumedCapacity: s.capacityMode(),
	})
	if err != nil {
		return nil, storeError("GetItem", err)
	}
	s.report(op, out.ConsumedCapacity)
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}

func decodeEvent(op string, item map[string]types.AttributeValue) (event.Event, error) {
	e, err := EventFromItem(item)
	if err != nil {
		return event.Event{}, event.Internal(op, err)
	}
	return e, nil
}

func (s *Store) capacityMode() types.ReturnConsumedCapacity {
	if s.cap == nil {
		return ""
	}
	return types.ReturnConsumedCapacityIndexes
}

func (s *Store) report(op string, cc *types.ConsumedCapacity) {
	if s.cap != nil && cc != nil {
		s.cap(op, cc)
	}
}

package dynamodbstreams

import (
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/event"
)

// The identity DynamoDB puts on the REMOVE records of items its TTL
// process deleted.
const (
	ttlIdentityType      = "Service"
	ttlIdentityPrincipal = "dynamodb.amazonaws.com"
)

// Reasons Change gives for records that are not changes of the feed.
var (
	// ErrNotEvent: the record is of another item kind (idempotency, rate
	// limit, subscription, delivery).
	ErrNotEvent = errors.New("not an event item")
	// ErrManualDelete: an event item was deleted by someone, not by TTL.
	ErrManualDelete = errors.New("event item deleted outside TTL")
	// ErrNoChange: a MODIFY that is not pending → delivered.
	ErrNoChange = errors.New("modification that is not an acknowledgement")
)

// Change returns the change a stream record carries. It returns one of
// ErrNotEvent, ErrManualDelete and ErrNoChange (errors.Is) for a record
// that is not a change of the feed, and any other error for a record that
// cannot be read (a poison record).
func Change(r events.DynamoDBEventRecord) (event.Change, error) {
	keys, err := Item(r.Change.Keys)
	if err != nil {
		return event.Change{}, fmt.Errorf("keys: %w", err)
	}
	if !dynamostore.IsEventItem(keys) {
		return event.Change{}, ErrNotEvent
	}
	at := r.Change.ApproximateCreationDateTime.UTC()
	switch r.EventName {
	case string(events.DynamoDBOperationTypeInsert):
		e, err := image("NewImage", r.Change.NewImage)
		if err != nil {
			return event.Change{}, err
		}
		return event.Change{Kind: event.ChangeCreated, Event: e, At: at}, nil
	case string(events.DynamoDBOperationTypeModify):
		old, err := image("OldImage", r.Change.OldImage)
		if err != nil {
			return event.Change{}, err
		}
		e, err := image("NewImage", r.Change.NewImage)
		if err != nil {
			return event.Change{}, err
		}
		if old.Status != event.StatusPending || e.Status != event.StatusDelivered {
			return event.Change{}, ErrNoChange
		}
		return event.Change{Kind: event.ChangeDelivered, Event: e, At: at}, nil
	case string(events.DynamoDBOperationTypeRemove):
		if id := r.UserIdentity; id == nil || id.Type != ttlIdentityType || id.PrincipalID != ttlIdentityPrincipal {
			return event.Change{}, ErrManualDelete
		}
		e, err := image("OldImage", r.Change.OldImage)
		if err != nil {
			return event.Change{}, err
		}
		return event.Change{Kind: event.ChangeExpired, Event: e, At: at}, nil
	}
	return event.Change{}, fmt.Errorf("unknown eventName %q", r.EventName)
}

func image(name string, img map[string]events.DynamoDBAttributeValue) (event.Event, error) {
	if len(img) == 0 {
		return event.Event{}, fmt.Errorf("%s is missing (the stream must be NEW_AND_OLD_IMAGES)", name)
	}
	item, err := Item(img)
	if err != nil {
		return event.Event{}, fmt.Errorf("%s: %w", name, err)
	}
	e, err := dynamostore.EventFromItem(item)
	if err != nil {
		return event.Event{}, fmt.Errorf("%s: %w", name, err)
	}
	return e, nil
}

// Item converts an image or key map of a stream record to the SDK's
// attribute values, which the store's decoder reads.
func Item(img map[string]events.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(img))
	for k, v := range img {
		a, err := Attribute(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		out[k] = a
	}
	return out, nil
}

// Attribute converts one attribute value, of any of DynamoDB's ten types.
func Attribute(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		l := v.List()
		out := make([]types.AttributeValue, len(l))
		for i, e := range l {
			a, err := Attribute(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = a
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case events.DataTypeMap:
		m, err := Item(v.Map())
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("unsupported attribute type %v", v.DataType())
}

package dynamodbstreams_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/stream/dynamodbstreams"
)

// sample reads testdata/dynamodbstreams/event.json (see its README for
// the AWS documentation it follows).
func sample(t testing.TB) events.DynamoDBEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "dynamodbstreams", "event.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestChangesOfTheSampleEvent(t *testing.T) {
	t.Parallel()
	recs := sample(t).Records
	if len(recs) != 5 {
		t.Fatalf("got %d records, want 5", len(recs))
	}
	created := event.Event{
		ID: "019ac9f1-5a00-7c3e-9d2a-4b1f0e8c7a61", Type: "order.created", Source: "shop",
		Payload: json.RawMessage(`{"order_id":1042,"total":"19.90"}`), Status: event.StatusPending,
		CreatedAt: ts("2026-11-28T10:00:00Z"), UpdatedAt: ts("2026-11-28T10:00:00Z"), ExpiresAt: ts("2027-02-26T10:00:00Z"),
	}
	acked := created
	acked.Status, acked.UpdatedAt = event.StatusDelivered, ts("2026-11-28T10:01:30.25Z")
	expired := event.Event{
		ID: "019ac9f2-0000-7aaa-8bbb-0c0d0e0f1011", Type: "user.signed_up", Source: "auth",
		Payload: json.RawMessage(`{}`), Status: event.StatusPending,
		CreatedAt: ts("2026-11-28T10:02:00Z"), UpdatedAt: ts("2026-11-28T10:02:00Z"), ExpiresAt: ts("2027-02-26T10:02:00Z"),
		IdempotencyKey: "signup-7781", Fingerprint: "9c1185a5c5e9fc54612808977ee8f548b2258d31",
	}
	tests := []struct {
		name    string
		want    event.Change
		wantErr error
	}{
		{"insert", event.Change{Kind: event.ChangeCreated, Event: created, At: time.Unix(1795860001, 0).UTC()}, nil},
		{"modify pending to delivered", event.Change{Kind: event.ChangeDelivered, Event: acked, At: time.Unix(1795860091, 0).UTC()}, nil},
		{"TTL remove", event.Change{Kind: event.ChangeExpired, Event: expired, At: time.Unix(1803636412, 0).UTC()}, nil},
		{"manual remove", event.Change{}, dynamodbstreams.ErrManualDelete},
		{"idempotency item", event.Change{}, dynamodbstreams.ErrNotEvent},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dynamodbstreams.Change(recs[i])
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestModifyThatIsNotAnAck(t *testing.T) {
	t.Parallel()
	r := sample(t).Records[1]
	r.Change.OldImage = r.Change.NewImage // delivered → delivered
	if _, err := dynamodbstreams.Change(r); !errors.Is(err, dynamodbstreams.ErrNoChange) {
		t.Errorf("got %v, want ErrNoChange", err)
	}
}

func TestTTLIdentityMustMatchExactly(t *testing.T) {
	t.Parallel()
	for _, id := range []*events.DynamoDBUserIdentity{
		{Type: "Service", PrincipalID: "dynamodb.amazonaws.com.evil"},
		{Type: "User", PrincipalID: "dynamodb.amazonaws.com"},
		{},
	} {
		r := sample(t).Records[2]
		r.UserIdentity = id
		if _, err := dynamodbstreams.Change(r); !errors.Is(err, dynamodbstreams.ErrManualDelete) {
			t.Errorf("identity %+v: got %v, want a manual delete", id, err)
		}
	}
}

func TestPoisonRecords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(r *events.DynamoDBEventRecord)
	}{
		{"insert without a new image (KEYS_ONLY stream)", func(r *events.DynamoDBEventRecord) { r.Change.NewImage = nil }},
		{"unknown status", func(r *events.DynamoDBEventRecord) {
			r.Change.NewImage["status"] = events.NewStringAttribute("archived")
		}},
		{"payload of the wrong type", func(r *events.DynamoDBEventRecord) {
			r.Change.NewImage["payload"] = events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{})
		}},
		{"unknown operation", func(r *events.DynamoDBEventRecord) { r.EventName = "UPSERT" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sample(t).Records[0]
			tt.mutate(&r)
			_, err := dynamodbstreams.Change(r)
			if err == nil || errors.Is(err, dynamodbstreams.ErrNotEvent) || errors.Is(err, dynamodbstreams.ErrNoChange) {
				t.Errorf("got %v, want a poison-record error", err)
			}
		})
	}
}

func TestAttributeConvertsEveryType(t *testing.T) {
	t.Parallel()
	const doc = `{
		"s": {"S": "text"}, "n": {"N": "123.45"}, "b": {"B": "AAEC"}, "t": {"BOOL": true},
		"null": {"NULL": true}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["AQ==", "Ag=="]},
		"l": {"L": [{"S": "x"}, {"N": "1"}]}, "m": {"M": {"k": {"L": [{"BOOL": false}]}}}
	}`
	var img map[string]events.DynamoDBAttributeValue
	if err := json.Unmarshal([]byte(doc), &img); err != nil {
		t.Fatal(err)
	}
	got, err := dynamodbstreams.Item(img)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]types.AttributeValue{
		"s":    &types.AttributeValueMemberS{Value: "text"},
		"n":    &types.AttributeValueMemberN{Value: "123.45"},
		"b":    &types.AttributeValueMemberB{Value: []byte{0, 1, 2}},
		"t":    &types.AttributeValueMemberBOOL{Value: true},
		"null": &types.AttributeValueMemberNULL{Value: true},
		"ss":   &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"ns":   &types.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"bs":   &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
		"l":    &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "x"}, &types.AttributeValueMemberN{Value: "1"}}},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"k": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberBOOL{Value: false}}},
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
}

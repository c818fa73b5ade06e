package dynamostore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/event"
)

func TestEventFromItemRoundTrip(t *testing.T) {
	t.Parallel()
	var ids event.IDs
	deep := strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40) // deeper than DynamoDB's 32 levels
	for _, tc := range []struct {
		name string
		n    event.NewEvent
	}{
		{"plain", event.NewEvent{Payload: []byte(`{"b":1,"a":1.0000000000000000001}`)}},
		{"idempotency key", event.NewEvent{Payload: []byte(`{"x":"é"}`), IdempotencyKey: "k-1"}},
		{"deep nesting", event.NewEvent{Payload: []byte(deep)}},
		{"type with hashes", event.NewEvent{Type: "a#b#1", Payload: []byte(`{}`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := build(t, &ids, start, tc.n)
			item := dynamostore.ItemOf(want, 8)
			if !dynamostore.IsEventItem(item) {
				t.Fatal("IsEventItem: got false, want true")
			}
			if _, ok := item["payload"].(*types.AttributeValueMemberS); !ok {
				t.Fatalf("payload attribute: got %T, want a string holding the raw JSON", item["payload"])
			}
			got, err := dynamostore.EventFromItem(item)
			if err != nil {
				t.Fatalf("EventFromItem: %v", err)
			}
			if string(got.Payload) != string(want.Payload) || got.ID != want.ID || got.Type != want.Type ||
				got.Source != want.Source || got.Status != want.Status || !got.CreatedAt.Equal(want.CreatedAt) ||
				!got.UpdatedAt.Equal(want.UpdatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) ||
				got.IdempotencyKey != want.IdempotencyKey || got.Fingerprint != want.Fingerprint {
				t.Fatalf("round trip: got %+v, want %+v", got, want)
			}
			if got.CreatedAt.Location() != time.UTC {
				t.Fatalf("CreatedAt location: got %v, want UTC", got.CreatedAt.Location())
			}
		})
	}
}

func TestEventFromItemRejects(t *testing.T) {
	t.Parallel()
	var ids event.IDs
	good := dynamostore.ItemOf(build(t, &ids, start, event.NewEvent{}), 8)
	for _, tc := range []struct {
		name   string
		change func(map[string]types.AttributeValue)
	}{
		{"missing id", func(m map[string]types.AttributeValue) { delete(m, "id") }},
		{"missing payload", func(m map[string]types.AttributeValue) { delete(m, "payload") }},
		{"number payload", func(m map[string]types.AttributeValue) { m["payload"] = &types.AttributeValueMemberN{Value: "1"} }},
		{"bad time", func(m map[string]types.AttributeValue) {
			m["created_at"] = &types.AttributeValueMemberS{Value: "yesterday"}
		}},
		{"unknown status", func(m map[string]types.AttributeValue) { m["status"] = &types.AttributeValueMemberS{Value: "lost"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			item := make(map[string]types.AttributeValue, len(good))
			for k, v := range good {
				item[k] = v
			}
			tc.change(item)
			if _, err := dynamostore.EventFromItem(item); err == nil {
				t.Fatal("EventFromItem: got nil error, want one")
			}
		})
	}
}

func TestIsEventItem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pk   string
		want bool
	}{
		{"EVT#0195", true},
		{"IDEM#k", false},
		{"RL#abc", false},
		{"", false},
	} {
		item := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: tc.pk}}
		if got := dynamostore.IsEventItem(item); got != tc.want {
			t.Errorf("IsEventItem(%q): got %v, want %v", tc.pk, got, tc.want)
		}
	}
}

// TestItemSize checks our count against DynamoDB's published rule on an
// item worked out by hand.
func TestItemSize(t *testing.T) {
	t.Parallel()
	item := map[string]types.AttributeValue{
		"pk":  &types.AttributeValueMemberS{Value: "EVT#x"},      // 2 + 5
		"ttl": &types.AttributeValueMemberN{Value: "1798000000"}, // 3 + 10 (over-counted: DynamoDB stores 6)
		"p":   &types.AttributeValueMemberS{Value: "é😀"},         // 1 + 2 + 4
		"b":   &types.AttributeValueMemberB{Value: []byte{1, 2}}, // 1 + 2
	}
	if got, want := dynamostore.ItemSize(item), 7+13+7+3; got != want {
		t.Fatalf("ItemSize: got %d, want %d", got, want)
	}
}

func TestShardSpreadUnit(t *testing.T) {
	t.Parallel()
	const shards, n = 8, 80_000
	var ids event.IDs
	counts := make([]int, shards)
	now := start
	for i := range n {
		if i%50 == 0 {
			now = now.Add(time.Millisecond)
		}
		counts[dynamostore.ShardOf(ids.New(now), shards)]++
	}
	// Expected 10,000 each; binomial sd ≈ 94, so ±500 is over 5 sd.
	for s, c := range counts {
		if c < n/shards-500 || c > n/shards+500 {
			t.Errorf("shard %d: got %d events, want %d ± 500 (all: %v)", s, c, n/shards, counts)
		}
	}
}

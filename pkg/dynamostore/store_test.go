package dynamostore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/storetest"
)

// listAll follows Next to the end.
func listAll(t *testing.T, s event.Store, q event.ListQuery) []event.Event {
	t.Helper()
	var all []event.Event
	for range 10_000 {
		p, err := s.ListPending(context.Background(), q)
		if err != nil {
			t.Fatalf("ListPending(%+v): %v", q, err)
		}
		all = append(all, p.Events...)
		if p.Next == "" {
			return all
		}
		q.Cursor = p.Next
	}
	t.Fatal("ListPending did not reach the end")
	return nil
}

func idsOf(events []event.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func reversed(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[len(ids)-1-i] = id
	}
	return out
}

func sameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s:\ngot  %d %v\nwant %d %v", what, len(got), got, len(want), want)
	}
}

// putN stores n events and returns them oldest first.
func putN(t *testing.T, s event.Store, ids *event.IDs, c *storetest.Clock, n int, typ string) []event.Event {
	t.Helper()
	out := make([]event.Event, n)
	for i := range out {
		e := build(t, ids, c.Now(), event.NewEvent{Type: typ, Payload: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))})
		if _, _, err := s.Put(context.Background(), e); err != nil {
			t.Fatalf("Put: %v", err)
		}
		out[i] = e
	}
	return out
}

// queryShard counts the items in one partition of a pending index.
func queryShard(t *testing.T, client *dynamodb.Client, table, index, keyAttr, pk string) int {
	t.Helper()
	out, err := client.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		IndexName:                 aws.String(index),
		KeyConditionExpression:    aws.String("#k = :k"),
		ExpressionAttributeNames:  map[string]string{"#k": keyAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": &types.AttributeValueMemberS{Value: pk}},
		Select:                    types.SelectCount,
	})
	if err != nil {
		t.Fatalf("Query %s %s: %v", index, pk, err)
	}
	return int(out.Count)
}

// TestShardSpread: pending events spread evenly over the shards of both
// indexes, and ack takes them out of both.
func TestShardSpread(t *testing.T) {
	t.Parallel()
	const shards, n = 8, 800
	client, table := newTable(t)
	c := storetest.NewClock(start)
	s, err := dynamostore.New(client, dynamostore.Options{Table: table, PendingShards: shards, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	var ids event.IDs
	events := make([]event.Event, n)
	for i := range events {
		events[i] = build(t, &ids, c.Now(), event.NewEvent{Type: "spread"})
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				if _, _, err := s.Put(context.Background(), events[i]); err != nil {
					t.Errorf("Put: %v", err)
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for shard := range shards {
		got := queryShard(t, client, table, "gsi1", "gsi1pk", fmt.Sprintf("PENDING#%d", shard))
		byType := queryShard(t, client, table, "gsi2", "gsi2pk", fmt.Sprintf("PTYPE#spread#%d", shard))
		// Expected 100; binomial sd ≈ 9.4, so ±50 is over 5 sd.
		if got < 50 || got > 150 {
			t.Errorf("shard %d holds %d pending events, want 100 ± 50", shard, got)
		}
		if byType != got {
			t.Errorf("shard %d: gsi2 holds %d, gsi1 %d, want equal", shard, byType, got)
		}
		total += got
	}
	if total != n {
		t.Fatalf("pending index holds %d events, want %d", total, n)
	}
	for _, e := range events[:n/2] {
		if _, ok, err := s.Ack(context.Background(), e.ID); err != nil || !ok {
			t.Fatalf("Ack: transitioned=%v err=%v", ok, err)
		}
	}
	total = 0
	for shard := range shards {
		total += queryShard(t, client, table, "gsi1", "gsi1pk", fmt.Sprintf("PENDING#%d", shard))
		total += queryShard(t, client, table, "gsi2", "gsi2pk", fmt.Sprintf("PTYPE#spread#%d", shard))
	}
	if total != n {
		t.Fatalf("after acking half: the two indexes hold %d entries, want %d", total, n)
	}
}

func TestSmoke(t *testing.T) {
	t.Parallel()
	c := storetest.NewClock(start)
	s := newStore(t, dynamostore.Options{Now: c.Now})
	var ids event.IDs
	events := putN(t, s, &ids, c, 5, "a")
	got := listAll(t, s, event.ListQuery{Limit: 2})
	sameIDs(t, "ListPending", idsOf(got), reversed(idsOf(events)))
	e, ok, err := s.Ack(context.Background(), events[0].ID)
	if err != nil || !ok || e.Status != event.StatusDelivered {
		t.Fatalf("Ack: %v %v %v", e.Status, ok, err)
	}
	e, ok, err = s.Ack(context.Background(), events[0].ID)
	if err != nil || ok || e.Status != event.StatusDelivered {
		t.Fatalf("second Ack: %v %v %v", e.Status, ok, err)
	}
	_, _, err = s.Ack(context.Background(), "019ac9f0-9a4b-7c3e-8f00-0123456789ab")
	wantCode(t, err, event.CodeNotFound)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

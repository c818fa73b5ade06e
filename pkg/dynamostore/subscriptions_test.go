package dynamostore_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/storetest"
)

// subFixture is a store on a fresh table with direct access to the table.
type subFixture struct {
	s      *dynamostore.Store
	client *dynamodb.Client
	table  string
	clock  *storetest.Clock
	ids    event.IDs
}

func newSubFixture(t *testing.T, optFns ...func(*dynamodb.Options)) *subFixture {
	t.Helper()
	f := &subFixture{clock: storetest.NewClock(start)}
	f.client, f.table = newTable(t, optFns...)
	s, err := dynamostore.New(f.client, dynamostore.Options{Table: f.table, Now: f.clock.Now, DeliveryRetention: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	return f
}

func (f *subFixture) newSub(t *testing.T) event.Subscription {
	t.Helper()
	now := f.clock.Now()
	return event.NewSubscription{TargetURL: "https://hooks.example.com/x"}.Build(f.ids.New(now), event.NewSecret(), now)
}

func (f *subFixture) create(t *testing.T) event.Subscription {
	t.Helper()
	sub := f.newSub(t)
	if err := f.s.CreateSubscription(context.Background(), sub); err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
	return sub
}

// scan returns every item of the table.
func (f *subFixture) scan(t *testing.T) []map[string]types.AttributeValue {
	t.Helper()
	out, err := f.client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(f.table)})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return out.Items
}

func (f *subFixture) counter(t *testing.T) int {
	t.Helper()
	out, err := f.client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(f.table),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "SUB#ALL"}, "sk": &types.AttributeValueMemberS{Value: "COUNT"}}})
	if err != nil {
		t.Fatalf("GetItem(counter): %v", err)
	}
	n, ok := out.Item["n"].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	v, _ := strconv.Atoi(n.Value)
	return v
}

func (f *subFixture) setCounter(t *testing.T, n int, at time.Time) {
	t.Helper()
	_, err := f.client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "SUB#ALL"}, "sk": &types.AttributeValueMemberS{Value: "COUNT"},
		"n":          &types.AttributeValueMemberN{Value: strconv.Itoa(n)},
		"updated_at": &types.AttributeValueMemberS{Value: at.UTC().Format("2006-01-02T15:04:05.000000Z")},
	}})
	if err != nil {
		t.Fatalf("PutItem(counter): %v", err)
	}
}

// TestSubscriptionItemsStayOutOfTheStream: subscriptions, deliveries and
// attempts live under SUB#/DLV# keys, never look like event items to the
// stream consumer and never enter the pending indexes; deliveries and
// attempts carry a TTL at their expiry, rounded up.
func TestSubscriptionItemsStayOutOfTheStream(t *testing.T) {
	t.Parallel()
	f := newSubFixture(t)
	ctx := context.Background()
	sub := f.create(t)
	d := event.NewDelivery(f.ids.New(f.clock.Now()), sub.ID, f.clock.Now())
	if _, _, err := f.s.ClaimDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	a := event.Attempt{DeliveryID: d.ID, SubscriptionID: sub.ID, EventID: d.EventID, N: 1, At: f.clock.Now(), StatusCode: 200, Outcome: event.OutcomeSuccess}
	d.Attempts, d.State, d.NextAttemptAt = 1, event.DeliverySucceeded, time.Time{}
	if err := f.s.RecordAttempt(ctx, d, a); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, item := range f.scan(t) {
		pk := item["pk"].(*types.AttributeValueMemberS).Value
		if dynamostore.IsEventItem(item) {
			t.Errorf("item %s looks like an event item to the stream consumer", pk)
		}
		for _, k := range []string{"gsi1pk", "gsi2pk"} {
			if _, ok := item[k]; ok {
				t.Errorf("item %s carries %s", pk, k)
			}
		}
		sk := item["sk"].(*types.AttributeValueMemberS).Value
		kind := pk[:strings.IndexByte(pk, '#')+1] + sk[:min(len(sk), 4)]
		kinds[kind]++
		if strings.HasPrefix(pk, "DLV#") || strings.HasPrefix(sk, "ATT#") {
			exp, _ := time.Parse("2006-01-02T15:04:05.000000Z", item["expires_at"].(*types.AttributeValueMemberS).Value)
			ttl, _ := strconv.ParseInt(item["ttl"].(*types.AttributeValueMemberN).Value, 10, 64)
			if want := f.clock.Now().Add(48 * time.Hour); !exp.Equal(event.Timestamp(want)) || ttl != event.Timestamp(want).Unix()+1 {
				t.Errorf("item %s %s: expires_at %v ttl %d, want %v and %d", pk, sk, exp, ttl, event.Timestamp(want), event.Timestamp(want).Unix()+1)
			}
		}
	}
	want := map[string]int{"SUB#SUB#": 1, "SUB#COUN": 1, "DLV#DLV": 1, "SUB#ATT#": 1}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("item kinds: got %v, want %v", kinds, want)
	}
}

// TestClaimLostResponse: the claim's PutItem reached DynamoDB but its
// response was lost; the SDK's retry meets the item its first attempt
// wrote. That is still this caller's claim (created=true), so the delivery
// is handed over once, not zero times.
func TestClaimLostResponse(t *testing.T) {
	t.Parallel()
	var lose atomic.Int64
	f := newSubFixture(t, lostResponse("PutItem", &lose))
	d := event.NewDelivery(f.ids.New(f.clock.Now()), f.ids.New(f.clock.Now()), f.clock.Now())
	lose.Store(1)
	got, created, err := f.s.ClaimDelivery(context.Background(), d)
	if err != nil || !created || got.ID != d.ID {
		t.Fatalf("ClaimDelivery: created=%v err=%v, want created=true", created, err)
	}
	if lose.Load() > 0 {
		t.Fatal("the test lost no response")
	}
	if _, created, err := f.s.ClaimDelivery(context.Background(), d); err != nil || created {
		t.Fatalf("second ClaimDelivery: created=%v err=%v, want false", created, err)
	}
}

// TestRecordAttemptLostResponse: a repeated RecordAttempt transaction
// (lost response, SDK retry) records the attempt once.
func TestRecordAttemptLostResponse(t *testing.T) {
	t.Parallel()
	var lose atomic.Int64
	f := newSubFixture(t, lostResponse("TransactWriteItems", &lose))
	ctx := context.Background()
	sub := f.ids.New(f.clock.Now())
	d := event.NewDelivery(f.ids.New(f.clock.Now()), sub, f.clock.Now())
	if _, _, err := f.s.ClaimDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	a := event.Attempt{DeliveryID: d.ID, SubscriptionID: sub, EventID: d.EventID, N: 1, At: f.clock.Now(), StatusCode: 503, Outcome: event.OutcomeRetry}
	d.Attempts, d.NextAttemptAt = 1, f.clock.Now().Add(time.Minute)
	lose.Store(1)
	if err := f.s.RecordAttempt(ctx, d, a); err != nil {
		t.Fatalf("RecordAttempt: %v", err)
	}
	if lose.Load() > 0 {
		t.Fatal("the test lost no response")
	}
	got, err := f.s.ListAttempts(ctx, sub, 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("ListAttempts: got %d, %v; want 1", len(got), err)
	}
}

// TestCreateLostResponse: a create whose PutItem response was lost
// succeeds on the SDK's retry, and counts once.
func TestCreateLostResponse(t *testing.T) {
	t.Parallel()
	var lose atomic.Int64
	f := newSubFixture(t, lostResponse("PutItem", &lose))
	lose.Store(1)
	sub := f.create(t)
	if lose.Load() > 0 {
		t.Fatal("the test lost no response")
	}
	if _, err := f.s.GetSubscription(context.Background(), sub.ID); err != nil {
		t.Fatal(err)
	}
	if n := f.counter(t); n != 1 {
		t.Fatalf("counter: got %d, want 1", n)
	}
}

// TestCounterRepair: a counter left too high (a create that died between
// its two writes) refuses creates only until it has settled; then the
// store recounts and lets them in, still never past the real cap.
func TestCounterRepair(t *testing.T) {
	t.Parallel()
	f := newSubFixture(t)
	ctx := context.Background()
	for range 3 {
		f.create(t)
	}
	f.setCounter(t, event.MaxSubscriptions, f.clock.Now())
	wantCode(t, f.s.CreateSubscription(ctx, f.newSub(t)), event.CodeInvalid)
	f.clock.Advance(59 * time.Second)
	wantCode(t, f.s.CreateSubscription(ctx, f.newSub(t)), event.CodeInvalid)
	f.clock.Advance(time.Second)
	f.create(t)
	if n := f.counter(t); n != 4 {
		t.Fatalf("counter after the repair: got %d, want 4", n)
	}
	all, err := f.s.ListSubscriptions(ctx)
	if err != nil || len(all) != 4 {
		t.Fatalf("ListSubscriptions: got %d, %v; want 4", len(all), err)
	}
	// A leak that has long settled is repaired at the first create that
	// meets it.
	f.setCounter(t, event.MaxSubscriptions, f.clock.Now().Add(-time.Hour))
	f.create(t) // repaired to 4, then 5
	if n := f.counter(t); n != 5 {
		t.Fatalf("counter: got %d, want 5", n)
	}
	// Deletes count down.
	if err := f.s.DeleteSubscription(ctx, all[0].ID); err != nil {
		t.Fatal(err)
	}
	if n := f.counter(t); n != 4 {
		t.Fatalf("counter after a delete: got %d, want 4", n)
	}
}

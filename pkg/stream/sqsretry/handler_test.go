package sqsretry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/triggershq/triggers/pkg/boltstore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/storetest"
	"github.com/triggershq/triggers/pkg/stream"
	"github.com/triggershq/triggers/pkg/stream/sqsretry"
	"github.com/triggershq/triggers/pkg/webhook"
)

// fakeSQS records what is sent; a unit-level stand-in (the moto suite
// runs the real queue).
type fakeSQS struct {
	mu      sync.Mutex
	sent    []sent
	fail    error // every call fails with it when set
	failIDs map[string]bool
	batches int
}

type sent struct {
	msg   sqsretry.Message
	delay int32
	body  string
}

func (f *fakeSQS) record(body string, delay int32) {
	var m sqsretry.Message
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		panic(err)
	}
	f.sent = append(f.sent, sent{msg: m, delay: delay, body: body})
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.record(aws.ToString(in.MessageBody), in.DelaySeconds)
	return &sqs.SendMessageOutput{}, nil
}

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.batches++
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		var m sqsretry.Message
		_ = json.Unmarshal([]byte(aws.ToString(e.MessageBody)), &m)
		if f.failIDs[m.DeliveryID] {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError")})
			continue
		}
		f.record(aws.ToString(e.MessageBody), e.DelaySeconds)
	}
	return out, nil
}

func (f *fakeSQS) take() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.sent
	f.sent = nil
	return out
}

type fixture struct {
	t       *testing.T
	clock   *storetest.Clock
	store   *boltstore.Store
	sqs     *fakeSQS
	queue   *sqsretry.Queue
	handler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
	attempt func(context.Context, event.Delivery) (event.Delivery, error) // the deliverer's
	hits    *int
	mu      *sync.Mutex
	sub     event.Subscription
	ev      event.Event
	seq     int
}

// newFixture builds the deliver function's parts on a bbolt store (it
// implements the same contracts as DynamoDB's) with a receiver answering
// statuses in turn (the last one repeats).
func newFixture(t *testing.T, policy webhook.Policy, statuses ...int) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: storetest.NewClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)), sqs: &fakeSQS{}, hits: new(int), mu: &sync.Mutex{}}
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "db"), boltstore.Options{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f.store = store
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		*f.hits++
		st := statuses[min(*f.hits, len(statuses))-1]
		f.mu.Unlock()
		w.WriteHeader(st)
	}))
	t.Cleanup(srv.Close)
	sender := webhook.NewSender(webhook.Options{AllowPrivateNetworks: true, Now: f.clock.Now})
	d, err := stream.NewDeliverer(stream.DelivererOptions{Events: store, Subscriptions: store, Deliveries: store, Sender: sender,
		Policy: policy, Now: f.clock.Now, Breaker: stream.BreakerOptions{Threshold: -1}})
	if err != nil {
		t.Fatal(err)
	}
	f.queue = sqsretry.NewQueue(f.sqs, "https://sqs.example/q", f.clock.Now)
	f.attempt = d.Attempt
	f.useAttempt(d.Attempt)
	ids := &event.IDs{}
	now := f.clock.Now()
	f.sub = event.NewSubscription{TargetURL: srv.URL}.Build(ids.New(now), event.NewSecret(), now)
	if err := store.CreateSubscription(context.Background(), f.sub); err != nil {
		t.Fatal(err)
	}
	f.ev, _, err = store.Put(context.Background(), event.NewEvent{Type: "t", Source: "s", Payload: []byte(`{}`)}.Build(ids.New(now), now, event.DefaultRetention))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// useAttempt rebuilds the handler around attempt (the deliverer's, or a
// wrapper of it).
func (f *fixture) useAttempt(attempt func(context.Context, event.Delivery) (event.Delivery, error)) {
	f.t.Helper()
	h, err := sqsretry.Handler(sqsretry.HandlerOptions{Deliveries: f.store, Attempt: attempt, Queue: f.queue, Now: f.clock.Now})
	if err != nil {
		f.t.Fatal(err)
	}
	f.handler = h
}

func (f *fixture) requests() int { f.mu.Lock(); defer f.mu.Unlock(); return *f.hits }

// claimAndHandOff does what the stream function does for a new event.
func (f *fixture) claimAndHandOff() {
	f.t.Helper()
	d, _, err := f.store.ClaimDelivery(context.Background(), event.NewDelivery(f.ev.ID, f.sub.ID, f.clock.Now()))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.queue.Handoff(context.Background(), []event.Delivery{d}); err != nil {
		f.t.Fatal(err)
	}
}

// deliver runs the handler on messages as SQS would present them.
func (f *fixture) deliver(receiveCount int, bodies ...string) events.SQSEventResponse {
	f.t.Helper()
	var ev events.SQSEvent
	for _, b := range bodies {
		f.seq++
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: fmt.Sprintf("m-%d", f.seq), Body: b, EventSource: "aws:sqs",
			Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(receiveCount)},
		})
	}
	resp, err := f.handler(context.Background(), ev)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp
}

func (f *fixture) attempts() []event.Attempt {
	f.t.Helper()
	as, err := f.store.ListAttempts(context.Background(), f.sub.ID, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	return as
}

func policyOf(delays ...time.Duration) webhook.Policy {
	return webhook.Policy{Delays: delays, Jitter: 1e-9, DisableAfterFailures: 100, DisableAfter: 1000 * time.Hour}
}

func TestFirstAttemptSucceeds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, policyOf(time.Minute), 200)
	f.claimAndHandOff()
	msgs := f.sqs.take()
	if len(msgs) != 1 || msgs[0].msg.Attempt != 1 || msgs[0].delay != 0 || msgs[0].msg.DeliveryID != event.DeliveryID(f.ev.ID, f.sub.ID) {
		t.Fatalf("handoff: got %+v, want one attempt-1 message without delay", msgs)
	}
	resp := f.deliver(1, msgs[0].body)
	if len(resp.BatchItemFailures) != 0 || f.requests() != 1 || len(f.sqs.take()) != 0 {
		t.Errorf("got failures %v, %d requests, want none, 1 and no new message", resp.BatchItemFailures, f.requests())
	}
	// The same message again (SQS is at least once): nothing is sent.
	if resp := f.deliver(1, msgs[0].body); len(resp.BatchItemFailures) != 0 || f.requests() != 1 {
		t.Errorf("duplicate: got failures %v and %d requests, want none and still 1", resp.BatchItemFailures, f.requests())
	}
}

// TestDuplicatesInOneBatchAttemptOnce: SQS may hand the deliver function
// both copies of a message in one batch (a stream record retried after a
// partial handoff sends its never-attempted deliveries again). The batch's
// messages are handled concurrently, so without care both copies see the
// attempt not yet made and both send it.
func TestDuplicatesInOneBatchAttemptOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, policyOf(time.Minute), 500)
	var calls atomic.Int32
	second := make(chan struct{})
	f.useAttempt(func(ctx context.Context, d event.Delivery) (event.Delivery, error) {
		if calls.Add(1) == 2 {
			close(second)
		}
		// Let a second copy get this far before this one records. The
		// wait only makes the race certain when there is one; passing
		// never depends on it.
		select {
		case <-second:
		case <-time.After(time.Second):
		}
		return f.attempt(ctx, d)
	})
	f.claimAndHandOff()
	body := f.sqs.take()[0].body
	resp := f.deliver(1, body, body)
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("got failures %v, want none", resp.BatchItemFailures)
	}
	if got := calls.Load(); got != 1 || f.requests() != 1 || len(f.attempts()) != 1 {
		t.Errorf("got %d attempts made, %d requests, %d recorded; want 1, 1, 1", got, f.requests(), len(f.attempts()))
	}
	if next := f.sqs.take(); len(next) != 1 || next[0].msg.Attempt != 2 {
		t.Errorf("got %+v, want one message for attempt 2", next)
	}
}

// TestInvalidMessageIsNoCopy: a malformed message naming a delivery's id
// and attempt does not make the valid one after it in the batch a copy.
func TestInvalidMessageIsNoCopy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, policyOf(time.Minute), 200)
	f.claimAndHandOff()
	body := f.sqs.take()[0].body
	var bad sqsretry.Message
	if err := json.Unmarshal([]byte(body), &bad); err != nil {
		t.Fatal(err)
	}
	bad.Due = time.Time{}
	resp := f.deliver(1, mustJSON(bad), body)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m-1" || f.requests() != 1 {
		t.Errorf("got failures %v and %d requests, want only the malformed m-1 failed and the valid one delivered", resp.BatchItemFailures, f.requests())
	}
}

func TestRetryIsReenqueuedWithItsDelay(t *testing.T) {
	t.Parallel()
	f := newFixture(t, policyOf(90*time.Second, time.Minute), 500, 200)
	f.claimAndHandOff()
	first := f.sqs.take()[0]
	f.deliver(1, first.body)
	next := f.sqs.take()
	if len(next) != 1 || next[0].msg.Attempt != 2 || next[0].delay < 90 || next[0].delay > 91 {
		t.Fatalf("after a 500: got %+v, want attempt 2 delayed 90 s", next)
	}
	as := f.attempts()
	if len(as) != 1 || as[0].Outcome != event.OutcomeRetry || as[0].StatusCode != 500 {
		t.Fatalf("attempts: got %+v, want one retry after a 500", as)
	}
	if want := as[0].At.Add(as[0].Latency).Add(90 * time.Second); next[0].msg.Due.Sub(want).Abs() > time.Millisecond {
		t.Errorf("due: got %v, want %v (the attempt's end plus the policy's delay)", next[0].msg.Due, want)
	}
	f.clock.Advance(91 * time.Second)
	f.deliver(1, next[0].body)
	if f.requests() != 2 || len(f.sqs.take()) != 0 {
		t.Errorf("got %d requests, want 2 and no further message", f.requests())
	}
}

func TestLongWaitsHopThroughFifteenMinuteDelays(t *testing.T) {
	t.Parallel()
	f := newFixture(t, policyOf(40*time.Minute), 503, 200)
	f.claimAndHandOff()
	f.deliver(1, f.sqs.take()[0].body)
	msg := f.sqs.take()[0]
	due := msg.msg.Due
	var delays []int32
	for hop := 0; hop < 10 && f.requests() == 1; hop++ {
		delays = append(delays, msg.delay)
		f.clock.Advance(time.Duration(msg.delay) * time.Second)
		if resp := f.deliver(1, msg.body); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("hop %d failed: %v", hop, resp.BatchItemFailures)
		}
		if f.requests() == 1 {
			msg = f.sqs.take()[0]
			if !msg.msg.Due.Equal(due) || msg.msg.Attempt != 2 {
				t.Fatalf("hop %d: got %+v, want the same attempt and due time carried", hop, msg.msg)
			}
		}
	}
	if len(delays) != 3 || delays[0] != 900 || delays[1] != 900 || delays[2] < 600 || delays[2] > 601 {
		t.Errorf("delays: got %v, want 900, 900, 600", delays)
	}
	if f.requests() != 2 || f.clock.Now().Before(due) {
		t.Errorf("got %d requests at %v, want the second attempt at or after %v", f.requests(), f.clock.Now(), due)
	}
}

func TestExhaustedDeliveryIsDeadAndNotReenqueued(t *testing.T) {
	t.Parallel()
	f := newFixture(t, policyOf(time.Second), 503)
	f.claimAndHandOff()
	f.deliver(1, f.sqs.take()[0].body)
	f.clock.Advance(2 * time.Second)
	f.deliver(1, f.sqs.take()[0].body)
	if n := len(f.sqs.take()); n != 0 {
		t.Errorf("got %d new messages after the last attempt, want 0", n)
	}
	sub, err := f.store.GetSubscription(context.Background(), f.sub.ID)
	if err != nil || sub.Active() {
		t.Errorf("subscription: got %v %v, want disabled", sub.Status, err)
	}
}

func TestRedeliveredMessageReschedulesALostSuccessor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, policyOf(time.Minute), 500, 200)
	f.claimAndHandOff()
	first := f.sqs.take()[0]
	f.sqs.fail = errors.New("sqs unavailable")
	resp := f.deliver(1, first.body)
	if len(resp.BatchItemFailures) != 1 || f.requests() != 1 {
		t.Fatalf("got failures %v and %d requests, want the message failed after its recorded attempt", resp.BatchItemFailures, f.requests())
	}
	// SQS redelivers it after the visibility timeout.
	f.sqs.fail = nil
	if resp := f.deliver(2, first.body); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivery failed: %v", resp.BatchItemFailures)
	}
	next := f.sqs.take()
	if f.requests() != 1 || len(next) != 1 || next[0].msg.Attempt != 2 {
		t.Fatalf("got %d requests and %+v, want no new attempt and attempt 2 scheduled", f.requests(), next)
	}
}

// TestMissingDeliveryStartsAfresh: a message for a later attempt whose
// delivery record is gone (deleted by hand, or by TTL while the message
// hopped) starts the delivery afresh, as its log line says, rather than
// leaving a new pending record that no message will ever attempt.
func TestMissingDeliveryStartsAfresh(t *testing.T) {
	t.Parallel()
	f := newFixture(t, policyOf(time.Minute), 200)
	m := sqsretry.MessageFor(event.NewDelivery(f.ev.ID, f.sub.ID, f.clock.Now()))
	m.Attempt = 3
	if resp := f.deliver(1, mustJSON(m)); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("got failures %v, want none", resp.BatchItemFailures)
	}
	d, created, err := f.store.ClaimDelivery(context.Background(), event.NewDelivery(f.ev.ID, f.sub.ID, f.clock.Now()))
	if err != nil || created {
		t.Fatalf("got created=%v, %v, want the record the handler made", created, err)
	}
	if f.requests() != 1 || d.State != event.DeliverySucceeded || d.Attempts != 1 {
		t.Errorf("got %d requests and a %s delivery after %d attempts, want 1 and succeeded after 1", f.requests(), d.State, d.Attempts)
	}
}

func TestBadMessagesFailForTheDLQ(t *testing.T) {
	t.Parallel()
	f := newFixture(t, policyOf(time.Minute), 200)
	good := sqsretry.MessageFor(event.NewDelivery(f.ev.ID, f.sub.ID, f.clock.Now()))
	wrongID := good
	wrongID.DeliveryID = "msg_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	noAttempt := good
	noAttempt.Attempt = 0
	bodies := []string{`not json`, `{}`, mustJSON(wrongID), mustJSON(noAttempt)}
	resp := f.deliver(1, bodies...)
	if len(resp.BatchItemFailures) != len(bodies) || f.requests() != 0 {
		t.Errorf("got %d failures and %d requests, want %d and 0", len(resp.BatchItemFailures), f.requests(), len(bodies))
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestHandoffBatchesAndReportsRefusals(t *testing.T) {
	t.Parallel()
	q := &fakeSQS{failIDs: map[string]bool{}}
	queue := sqsretry.NewQueue(q, "u", nil)
	ids := &event.IDs{}
	now := time.Now()
	var ds []event.Delivery
	for range 25 {
		ds = append(ds, event.NewDelivery(ids.New(now), ids.New(now), now))
	}
	if err := queue.Handoff(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	if q.batches != 3 || len(q.take()) != 25 {
		t.Errorf("got %d batches, want 3 carrying 25 messages", q.batches)
	}
	q.failIDs[ds[12].ID] = true
	err := queue.Handoff(context.Background(), ds)
	if err == nil || !strings.Contains(err.Error(), ds[12].ID) {
		t.Errorf("got %v, want an error naming %s", err, ds[12].ID)
	}
}

func TestDelaySeconds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		wait time.Duration
		want int32
	}{
		{-time.Second, 0}, {0, 0}, {time.Millisecond, 1}, {time.Second, 1}, {1500 * time.Millisecond, 2},
		{15 * time.Minute, 900}, {24 * time.Hour, 900},
	} {
		if got := sqsretry.DelaySeconds(tt.wait); got != tt.want {
			t.Errorf("DelaySeconds(%v): got %d, want %d", tt.wait, got, tt.want)
		}
	}
}

package dynamodbstreams_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streamsapi "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/triggershq/triggers/internal/testenv"
	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/metrics"
	"github.com/triggershq/triggers/pkg/stream"
	"github.com/triggershq/triggers/pkg/stream/dynamodbstreams"
	"github.com/triggershq/triggers/pkg/stream/dynamodbstreams/streamtest"
	"github.com/triggershq/triggers/pkg/stream/sqsretry"
	"github.com/triggershq/triggers/pkg/webhook"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var seq atomic.Int64

// awsWorld is the AWS deployment's stream path against moto_server: the
// DynamoDB store writing to a table with a stream, moto's DynamoDB Streams
// API to read it, and moto's SQS as the retry queue.
type awsWorld struct {
	t         *testing.T
	cfg       aws.Config
	ddb       *dynamodb.Client
	table     string
	store     *dynamostore.Store
	reader    *streamtest.Reader
	streamARN string
	sqs       *sqs.Client
	queueURL  string
	queue     *sqsretry.Queue
	ids       *event.IDs
}

func newAWSWorld(t *testing.T) *awsWorld {
	t.Helper()
	moto := testenv.StartMoto(t)
	w := &awsWorld{t: t, ids: &event.IDs{}}
	w.cfg = aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(moto.Endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test", Source: "test"}, nil
		}),
	}
	ctx := context.Background()
	n := seq.Add(1)
	w.ddb = dynamostore.NewClient(w.cfg, dynamostore.ClientOptions{})
	w.table = fmt.Sprintf("stream-%d-%d", os.Getpid(), n)
	if err := dynamostore.CreateTable(ctx, w.ddb, w.table); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = w.ddb.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(w.table)})
	})
	var err error
	w.store, err = dynamostore.New(w.ddb, dynamostore.Options{Table: w.table})
	if err != nil {
		t.Fatal(err)
	}
	desc, err := w.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(w.table)})
	if err != nil {
		t.Fatal(err)
	}
	w.streamARN = aws.ToString(desc.Table.LatestStreamArn)
	if w.streamARN == "" {
		t.Fatal("the table has no stream")
	}
	w.reader = streamtest.NewReader(streamsapi.NewFromConfig(w.cfg), w.streamARN)
	w.sqs = sqs.NewFromConfig(w.cfg)
	q, err := w.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("retry-%d-%d", os.Getpid(), n))})
	if err != nil {
		t.Fatal(err)
	}
	w.queueURL = aws.ToString(q.QueueUrl)
	w.queue = sqsretry.NewQueue(w.sqs, w.queueURL, nil)
	return w
}

// records reads what the stream got since the last call, as the JSON an
// event source mapping invokes the stream function with, and decoded.
func (w *awsWorld) records() ([]byte, events.DynamoDBEvent) {
	w.t.Helper()
	recs, err := w.reader.Read(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	raw, err := streamtest.LambdaEvent(w.streamARN, recs)
	if err != nil {
		w.t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		w.t.Fatal(err)
	}
	return raw, ev
}

func (w *awsWorld) put(typ string) event.Event {
	w.t.Helper()
	now := time.Now()
	e, _, err := w.store.Put(context.Background(), event.NewEvent{Type: typ, Source: "shop", Payload: []byte(`{"n":12345678901234567890}`)}.Build(w.ids.New(now), now, event.DefaultRetention))
	if err != nil {
		w.t.Fatal(err)
	}
	return e
}

func (w *awsWorld) subscribe(target string, types ...string) event.Subscription {
	w.t.Helper()
	now := time.Now()
	sub := event.NewSubscription{TargetURL: target, EventTypes: types}.Build(w.ids.New(now), event.NewSecret(), now)
	if err := w.store.CreateSubscription(context.Background(), sub); err != nil {
		w.t.Fatal(err)
	}
	return sub
}

// receive takes the queue's visible messages (waiting up to wait for the
// first) as Lambda's SQS event source presents them.
func (w *awsWorld) receive(wait time.Duration) events.SQSEvent {
	w.t.Helper()
	out, err := w.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(w.queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: int32(wait / time.Second),
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		VisibilityTimeout:           60,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	var ev events.SQSEvent
	for _, m := range out.Messages {
		attrs := map[string]string{}
		for k, v := range m.Attributes {
			attrs[k] = v
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: attrs, EventSource: "aws:sqs", AWSRegion: "us-east-1",
		})
	}
	return ev
}

// settle deletes the messages the handler did not report as failed, as
// the SQS event source does after an invocation.
func (w *awsWorld) settle(ev events.SQSEvent, resp events.SQSEventResponse) {
	w.t.Helper()
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, m := range ev.Records {
		if failed[m.MessageId] {
			continue
		}
		if _, err := w.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(w.queueURL), ReceiptHandle: aws.String(m.ReceiptHandle)}); err != nil {
			w.t.Fatal(err)
		}
	}
}

func messagesOf(t testing.TB, ev events.SQSEvent) []sqsretry.Message {
	t.Helper()
	var out []sqsretry.Message
	for _, r := range ev.Records {
		var m sqsretry.Message
		if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// hookReceiver counts the requests per webhook-id that verify by hand.
type hookReceiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	secret   string
	statuses []int
	got      []string // webhook-id of each request with a valid signature
	bad      int
}

func newHookReceiver(t testing.TB, statuses ...int) *hookReceiver {
	h := &hookReceiver{statuses: statuses}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if testenv.VerifyWebhookSignature(h.secret, r.Header, body) != nil {
			h.bad++
		}
		h.got = append(h.got, r.Header.Get("webhook-id"))
		w.WriteHeader(h.statuses[min(len(h.got), len(h.statuses))-1])
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) requests() ([]string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got), h.bad
}

// emfValues parses EMF lines into metric name → values, checking that
// each line declares its metrics in the namespace with no dimensions.
func emfValues(t testing.TB, out, namespace string) map[string][]float64 {
	t.Helper()
	vals := map[string][]float64{}
	for line := range strings.Lines(out) {
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("EMF line is not JSON: %q", line)
		}
		var meta struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		}
		if err := json.Unmarshal(doc["_aws"], &meta); err != nil || len(meta.CloudWatchMetrics) != 1 || meta.Timestamp == 0 {
			t.Fatalf("bad _aws member in %q: %v", line, err)
		}
		d := meta.CloudWatchMetrics[0]
		if d.Namespace != namespace || len(d.Dimensions) != 1 || len(d.Dimensions[0]) != 0 {
			t.Errorf("directive %+v: want namespace %s and one empty dimension set", d, namespace)
		}
		for _, m := range d.Metrics {
			var one float64
			var many []float64
			if json.Unmarshal(doc[m.Name], &one) == nil {
				many = []float64{one}
			} else if err := json.Unmarshal(doc[m.Name], &many); err != nil {
				t.Fatalf("metric %s: %s", m.Name, doc[m.Name])
			}
			vals[m.Name] = append(vals[m.Name], many...)
		}
	}
	return vals
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

// failingHandoff fails the handoff of deliveries of the named events.
func failingHandoff(next stream.Handoff, eventIDs ...string) stream.Handoff {
	return func(ctx context.Context, ds []event.Delivery) error {
		for _, d := range ds {
			if slices.Contains(eventIDs, d.EventID) {
				return errors.New("injected: SQS unavailable")
			}
		}
		return next(ctx, ds)
	}
}

func TestStreamThroughSQSToTheReceiverOnMoto(t *testing.T) {
	w := newAWSWorld(t)
	ctx := context.Background()
	rc := newHookReceiver(t, 500, 200)
	sub := w.subscribe(rc.srv.URL+"/hooks/1", "order.*")
	rc.secret = sub.Secret

	// Real writes through the DynamoDB store.
	e1 := w.put("order.created")
	e2 := w.put("user.created") // matches no subscription
	if _, _, err := w.store.Ack(ctx, e1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(w.table), Key: map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "EVT#" + e2.ID}, "sk": &ddbtypes.AttributeValueMemberS{Value: "EVT"},
	}}); err != nil {
		t.Fatal(err)
	}

	raw, ev := w.records()
	checkShape(t, raw)
	var names []string
	for _, r := range ev.Records {
		if strings.HasPrefix(r.Change.Keys["pk"].String(), "EVT#") {
			names = append(names, r.EventName)
		}
	}
	if !slices.Equal(names, []string{"INSERT", "INSERT", "MODIFY", "REMOVE"}) {
		t.Fatalf("event records from moto's stream: got %v, want INSERT INSERT MODIFY REMOVE", names)
	}
	// The manual delete becomes a TTL removal when it carries the TTL
	// service identity (moto does not run TTL; AWS marks such records so).
	ttl := ev.Records[len(ev.Records)-1]
	ttl.UserIdentity = &events.DynamoDBUserIdentity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"}
	ev.Records = append(ev.Records, ttl)

	var emfOut bytes.Buffer
	emf := metrics.NewEMF(&emfOut, "Triggers/test", nil)
	consumer, err := stream.NewConsumer(stream.ConsumerOptions{Subscriptions: w.store, Deliveries: w.store, Handoff: w.queue.Handoff, Metrics: emf})
	if err != nil {
		t.Fatal(err)
	}
	handler := dynamodbstreams.Handler(consumer.Handle, dynamodbstreams.Options{})
	resp, err := handler(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("stream handler: got %v %v, want no failures", resp.BatchItemFailures, err)
	}
	if err := emf.Flush(); err != nil {
		t.Fatal(err)
	}
	vals := emfValues(t, emfOut.String(), "Triggers/test")
	if sum(vals["EventsIngested"]) != 2 || sum(vals["EventsDelivered"]) != 1 || len(vals["AckLatency"]) != 1 || sum(vals["EventsExpired"]) != 1 {
		t.Errorf("EMF: got %v, want 2 ingested, 1 delivered with its latency, 1 expired", vals)
	}

	// One message on the retry queue: the first attempt of e1 → sub.
	sqsEv := w.receive(5 * time.Second)
	msgs := messagesOf(t, sqsEv)
	wantID := event.DeliveryID(e1.ID, sub.ID)
	if len(msgs) != 1 || msgs[0].DeliveryID != wantID || msgs[0].Attempt != 1 {
		t.Fatalf("retry queue: got %+v, want attempt 1 of %s", msgs, wantID)
	}

	// The deliver function consumes it: a 500, so attempt 2 is enqueued
	// with its delay, and the message is deleted.
	emfOut.Reset()
	deliverer, err := stream.NewDeliverer(stream.DelivererOptions{
		Events: w.store, Subscriptions: w.store, Deliveries: w.store,
		Sender:  webhook.NewSender(webhook.Options{AllowPrivateNetworks: true}),
		Policy:  webhook.Policy{Delays: []time.Duration{time.Second}, Jitter: 1e-9},
		Metrics: emf,
	})
	if err != nil {
		t.Fatal(err)
	}
	deliver, err := sqsretry.Handler(sqsretry.HandlerOptions{Deliveries: w.store, Attempt: deliverer.Attempt, Queue: w.queue})
	if err != nil {
		t.Fatal(err)
	}
	dresp, err := deliver(ctx, sqsEv)
	if err != nil || len(dresp.BatchItemFailures) != 0 {
		t.Fatalf("deliver: got %v %v", dresp.BatchItemFailures, err)
	}
	w.settle(sqsEv, dresp)
	next := w.receive(10 * time.Second)
	msgs = messagesOf(t, next)
	if len(msgs) != 1 || msgs[0].Attempt != 2 || msgs[0].DeliveryID != wantID {
		t.Fatalf("after a 500: got %+v, want attempt 2 of %s", msgs, wantID)
	}
	if rc, _ := strconv.Atoi(next.Records[0].Attributes["ApproximateReceiveCount"]); rc != 1 {
		t.Errorf("receive count: got %d, want 1 (a new message, not a redelivery)", rc)
	}
	dresp, err = deliver(ctx, next)
	if err != nil || len(dresp.BatchItemFailures) != 0 {
		t.Fatalf("deliver: got %v %v", dresp.BatchItemFailures, err)
	}
	w.settle(next, dresp)
	if err := emf.Flush(); err != nil {
		t.Fatal(err)
	}
	got, bad := rc.requests()
	if !slices.Equal(got, []string{wantID, wantID}) || bad != 0 {
		t.Errorf("receiver: got %v (%d bad signatures), want %s twice, signed", got, bad, wantID)
	}
	vals = emfValues(t, emfOut.String(), "Triggers/test")
	if sum(vals["WebhookAttempts"]) != 2 || sum(vals["WebhookSuccesses"]) != 1 || sum(vals["WebhookFailures"]) != 1 || len(vals["WebhookLatency"]) != 2 {
		t.Errorf("EMF: got %v, want 2 attempts, 1 success, 1 failure, 2 latencies", vals)
	}
	attempts, err := w.store.ListAttempts(ctx, sub.ID, 10)
	if err != nil || len(attempts) != 2 || attempts[0].Outcome != event.OutcomeSuccess || attempts[1].StatusCode != 500 {
		t.Errorf("attempts: got %+v %v, want a 500 then a success", attempts, err)
	}
	if left := w.receive(2 * time.Second); len(left.Records) != 0 {
		t.Errorf("got %d messages left, want none after the success", len(left.Records))
	}

	// The same batch again (Lambda retries it after a failure elsewhere):
	// nothing more is delivered.
	if resp, err := handler(ctx, ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("replay: got %v %v", resp.BatchItemFailures, err)
	}
	if left := w.receive(2 * time.Second); len(left.Records) != 0 {
		t.Errorf("replay: got %d messages, want none (the delivery succeeded)", len(left.Records))
	}
}

func TestStreamBatchItemFailuresOnMoto(t *testing.T) {
	w := newAWSWorld(t)
	ctx := context.Background()
	w.subscribe("https://hooks.example.com/x")
	e1, e2, e3 := w.put("a"), w.put("b"), w.put("c")
	_, ev := w.records()
	ev.Records = slices.DeleteFunc(ev.Records, func(r events.DynamoDBEventRecord) bool {
		return !strings.HasPrefix(r.Change.Keys["pk"].String(), "EVT#") // the event source mapping's filter (cdk/stack)
	})
	if len(ev.Records) != 3 {
		t.Fatalf("got %d records, want 3", len(ev.Records))
	}
	consumer, err := stream.NewConsumer(stream.ConsumerOptions{Subscriptions: w.store, Deliveries: w.store, Handoff: failingHandoff(w.queue.Handoff, e2.ID)})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := dynamodbstreams.Handler(consumer.Handle, dynamodbstreams.Options{})(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	want := []events.DynamoDBBatchItemFailure{{ItemIdentifier: ev.Records[1].Change.SequenceNumber}}
	if !slices.Equal(resp.BatchItemFailures, want) {
		t.Fatalf("got %v, want the second record's sequence number %v", resp.BatchItemFailures, want)
	}
	msgs := messagesOf(t, w.receive(2*time.Second))
	if len(msgs) != 1 || msgs[0].EventID != e1.ID {
		t.Fatalf("got %+v, want only e1's delivery (nothing after the failed record)", msgs)
	}

	// Lambda retries from the failed record; the queue is back.
	consumer, err = stream.NewConsumer(stream.ConsumerOptions{Subscriptions: w.store, Deliveries: w.store, Handoff: w.queue.Handoff})
	if err != nil {
		t.Fatal(err)
	}
	retry := events.DynamoDBEvent{Records: ev.Records[1:]}
	if resp, err := dynamodbstreams.Handler(consumer.Handle, dynamodbstreams.Options{})(ctx, retry); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("retry: got %v %v", resp.BatchItemFailures, err)
	}
	var ids []string
	for _, m := range messagesOf(t, w.receive(2*time.Second)) {
		ids = append(ids, m.EventID)
	}
	slices.Sort(ids)
	wantIDs := []string{e2.ID, e3.ID}
	slices.Sort(wantIDs)
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("after the retry: got deliveries of %v, want %v", ids, wantIDs)
	}
}

// checkShape compares the members of the records built from moto's
// stream with those of the documented sample in testdata, so the handler
// tests and the sample describe the same thing.
func checkShape(t testing.TB, raw []byte) {
	t.Helper()
	sampleRaw, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "dynamodbstreams", "event.json"))
	if err != nil {
		t.Fatal(err)
	}
	members := func(raw []byte) (rec, body map[string]bool) {
		var doc struct {
			Records []map[string]json.RawMessage
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		rec, body = map[string]bool{}, map[string]bool{}
		for _, r := range doc.Records {
			for k := range r {
				rec[k] = true
			}
			var d map[string]json.RawMessage
			_ = json.Unmarshal(r["dynamodb"], &d)
			for k := range d {
				body[k] = true
			}
		}
		return rec, body
	}
	gotRec, gotBody := members(raw)
	wantRec, wantBody := members(sampleRaw)
	delete(wantRec, "userIdentity") // only TTL removals carry it
	delete(gotRec, "userIdentity")
	for k := range wantRec {
		if !gotRec[k] {
			t.Errorf("records from moto lack the member %q the documented sample has", k)
		}
	}
	for k := range gotRec {
		if !wantRec[k] {
			t.Errorf("records from moto have a member %q the documented sample lacks", k)
		}
	}
	for k := range wantBody {
		if !gotBody[k] {
			t.Errorf("dynamodb members from moto lack %q", k)
		}
	}
}

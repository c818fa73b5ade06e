// The stream and deliver functions' binaries, built as `make build` builds
// them (for this host), run under the AWS Lambda Runtime Interface Emulator
// against moto_server: a DynamoDB Streams event read from moto's stream
// goes into the stream function, its SQS message into the deliver function,
// and the webhook reaches a receiver on loopback. An integration suite:
// TRIGGERS_INTEGRATION=1, aws-lambda-rie (make tools) and moto_server.
package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	streamsapi "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/triggershq/triggers/internal/testenv"
	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/stream/dynamodbstreams/streamtest"
	"github.com/triggershq/triggers/pkg/stream/sqsretry"
	"github.com/triggershq/triggers/pkg/webhook"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// binary builds the stream and deliver functions once (the flags of `make
// build-functions`, for this host) and returns the named one's path.
func binary(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(testenv.FunctionBinaries(t, "stream", "deliver"), name)
}

// emulator is one function under its own aws-lambda-rie on loopback.
type emulator struct {
	*testenv.Lambda
	invokes int
}

var reportRE = regexp.MustCompile(`REPORT RequestId: `)

func startEmulator(t testing.TB, name string, env map[string]string) *emulator {
	t.Helper()
	return &emulator{Lambda: testenv.StartLambda(t, name, binary(t, name), env)}
}

// invoke sends the event JSON, waits for the invoke's REPORT line, and
// returns the handler's answer and the output of this invoke.
func (e *emulator) invoke(t testing.TB, payload []byte) (answer []byte, output string) {
	t.Helper()
	before := len(e.Out.String())
	resp, err := http.Post(e.URL, "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("invoke %s: %v", e.Name, err)
	}
	answer, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || bytes.Contains(answer, []byte(`"errorMessage"`)) {
		t.Fatalf("invoke %s: %d %s\n%s", e.Name, resp.StatusCode, answer, e.Out.String())
	}
	e.invokes++
	deadline := time.Now().Add(10 * time.Second)
	for len(reportRE.FindAllStringIndex(e.Out.String(), -1)) < e.invokes {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no REPORT line for invoke %d:\n%s", e.Name, e.invokes, e.Out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return answer, e.Out.String()[before:]
}

// emf sums the values of each metric over the EMF lines in output (lines
// holding an "_aws" member), checking their namespace.
func emf(t testing.TB, output, namespace string) map[string]float64 {
	t.Helper()
	sums := map[string]float64{}
	for line := range strings.Lines(output) {
		if !strings.Contains(line, `"_aws"`) {
			continue
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("EMF line is not JSON: %q", line)
		}
		var meta struct {
			CloudWatchMetrics []struct {
				Namespace string
				Metrics   []struct{ Name string }
			}
		}
		if err := json.Unmarshal(doc["_aws"], &meta); err != nil || len(meta.CloudWatchMetrics) != 1 {
			t.Fatalf("bad EMF metadata: %q", line)
		}
		if ns := meta.CloudWatchMetrics[0].Namespace; ns != namespace {
			t.Errorf("namespace: got %q, want %q", ns, namespace)
		}
		for _, m := range meta.CloudWatchMetrics[0].Metrics {
			var v float64
			var vs []float64
			if json.Unmarshal(doc[m.Name], &v) == nil {
				sums[m.Name] += v
			} else if json.Unmarshal(doc[m.Name], &vs) == nil {
				sums[m.Name+"#count"] += float64(len(vs))
			}
		}
	}
	return sums
}

type awsSide struct {
	cfg       aws.Config
	endpoint  string
	ddb       *dynamodb.Client
	table     string
	store     *dynamostore.Store
	streamARN string
	reader    *streamtest.Reader
	sqs       *sqs.Client
	queueURL  string
}

func newAWSSide(t *testing.T) *awsSide {
	t.Helper()
	moto := testenv.StartMoto(t)
	s := &awsSide{endpoint: moto.Endpoint}
	s.cfg = aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(moto.Endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test", Source: "test"}, nil
		})}
	ctx := context.Background()
	s.ddb = dynamostore.NewClient(s.cfg, dynamostore.ClientOptions{})
	s.table = fmt.Sprintf("fn-stream-%d-%d", os.Getpid(), time.Now().UnixNano())
	if err := dynamostore.CreateTable(ctx, s.ddb, s.table); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = s.ddb.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(s.table)})
	})
	var err error
	if s.store, err = dynamostore.New(s.ddb, dynamostore.Options{Table: s.table}); err != nil {
		t.Fatal(err)
	}
	desc, err := s.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	if err != nil {
		t.Fatal(err)
	}
	s.streamARN = aws.ToString(desc.Table.LatestStreamArn)
	s.reader = streamtest.NewReader(streamsapi.NewFromConfig(s.cfg), s.streamARN)
	s.sqs = sqs.NewFromConfig(s.cfg)
	q, err := s.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(s.table + "-retry")})
	if err != nil {
		t.Fatal(err)
	}
	s.queueURL = aws.ToString(q.QueueUrl)
	return s
}

// env is what the CDK stack gives the functions, pointed at moto.
func (s *awsSide) env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL": s.endpoint, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"TRIGGERS_TABLE": s.table, "TRIGGERS_RETRY_QUEUE_URL": s.queueURL,
		"TRIGGERS_METRICS_NAMESPACE":      "Triggers/emulator",
		"TRIGGERS_ALLOW_PRIVATE_WEBHOOKS": "1", // the receiver is on loopback
	}
}

// streamEvent is the DynamoDB Streams event of the stream's new records
// of event items (the event source mapping's filter), as JSON.
func (s *awsSide) streamEvent(t testing.TB) []byte {
	t.Helper()
	recs, err := s.reader.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := streamtest.LambdaEvent(s.streamARN, recs)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	var keep []json.RawMessage
	var doc struct{ Records []json.RawMessage }
	_ = json.Unmarshal(raw, &doc)
	for i, r := range ev.Records {
		if strings.HasPrefix(r.Change.Keys["pk"].String(), dynamostore.EventKeyPrefix) {
			keep = append(keep, doc.Records[i])
		}
	}
	out, _ := json.Marshal(map[string]any{"Records": keep})
	return out
}

// sqsEvent receives the queue's messages as the SQS event source presents
// them, and deletes them (the handler is trusted to report failures; the
// tests check its answer).
func (s *awsSide) sqsEvent(t testing.TB) ([]byte, []sqsretry.Message) {
	t.Helper()
	out, err := s.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(s.queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 2,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	var msgs []sqsretry.Message
	for _, m := range out.Messages {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body: aws.ToString(m.Body), Attributes: m.Attributes, EventSource: "aws:sqs", AWSRegion: "us-east-1"})
		var msg sqsretry.Message
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &msg); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, msg)
		if _, err := s.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(s.queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
	raw, _ := json.Marshal(ev)
	return raw, msgs
}

func (s *awsSide) delayed(t testing.TB) string {
	t.Helper()
	out, err := s.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(s.queueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed)]
}

func TestStreamAndDeliverFunctionsUnderTheEmulator(t *testing.T) {
	testenv.Integration(t)
	s := newAWSSide(t)
	ctx := context.Background()

	var mu sync.Mutex
	var got []string
	status := http.StatusOK
	var secret string
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := webhook.Verify(secret, r.Header, body, time.Hour); err != nil {
			t.Errorf("receiver: %v", err)
		}
		got = append(got, r.Header.Get("webhook-id"))
		w.WriteHeader(status)
	}))
	defer rc.Close()

	ids := &event.IDs{}
	now := time.Now()
	sub := event.NewSubscription{TargetURL: rc.URL + "/hook", EventTypes: []string{"order.*"}}.Build(ids.New(now), event.NewSecret(), now)
	secret = sub.Secret
	if err := s.store.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	e, _, err := s.store.Put(ctx, event.NewEvent{Type: "order.created", Source: "shop", Payload: []byte(`{}`)}.Build(ids.New(now), now, event.DefaultRetention))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.store.Ack(ctx, e.ID); err != nil {
		t.Fatal(err)
	}

	streamFn := startEmulator(t, "stream", s.env())
	deliverFn := startEmulator(t, "deliver", s.env())

	answer, output := streamFn.invoke(t, s.streamEvent(t))
	if string(answer) != `{"batchItemFailures":[]}` {
		t.Errorf("stream: got %s, want no failures", answer)
	}
	if m := emf(t, output, "Triggers/emulator"); m["EventsIngested"] != 1 || m["EventsDelivered"] != 1 || m["AckLatency#count"] != 1 {
		t.Errorf("stream EMF: got %v, want 1 ingested, 1 delivered, 1 ack latency\n%s", m, output)
	}

	raw, msgs := s.sqsEvent(t)
	wantID := event.DeliveryID(e.ID, sub.ID)
	if len(msgs) != 1 || msgs[0].DeliveryID != wantID || msgs[0].Attempt != 1 {
		t.Fatalf("retry queue: got %+v, want attempt 1 of %s", msgs, wantID)
	}
	answer, output = deliverFn.invoke(t, raw)
	if string(answer) != `{"batchItemFailures":[]}` {
		t.Errorf("deliver: got %s, want no failures", answer)
	}
	if m := emf(t, output, "Triggers/emulator"); m["WebhookAttempts"] != 1 || m["WebhookSuccesses"] != 1 || m["WebhookLatency#count"] != 1 {
		t.Errorf("deliver EMF: got %v\n%s", m, output)
	}
	mu.Lock()
	if len(got) != 1 || got[0] != wantID {
		t.Errorf("receiver: got %v, want %s once", got, wantID)
	}
	status = http.StatusServiceUnavailable
	mu.Unlock()

	// A failing target: the next delivery is re-enqueued with the default
	// schedule's first delay (about 30 s), so it waits delayed in SQS.
	e2, _, err := s.store.Put(ctx, event.NewEvent{Type: "order.paid", Source: "shop", Payload: []byte(`{}`)}.Build(ids.New(time.Now()), time.Now(), event.DefaultRetention))
	if err != nil {
		t.Fatal(err)
	}
	streamFn.invoke(t, s.streamEvent(t))
	raw, msgs = s.sqsEvent(t)
	if len(msgs) != 1 || msgs[0].EventID != e2.ID {
		t.Fatalf("retry queue: got %+v, want e2's first attempt", msgs)
	}
	answer, _ = deliverFn.invoke(t, raw)
	if string(answer) != `{"batchItemFailures":[]}` {
		t.Errorf("deliver: got %s", answer)
	}
	if n := s.delayed(t); n != "1" {
		t.Errorf("delayed messages: got %s, want 1 (attempt 2, delayed)", n)
	}
	as, err := s.store.ListAttempts(ctx, sub.ID, 10)
	if err != nil || len(as) != 2 || as[0].StatusCode != 503 || as[0].Outcome != event.OutcomeRetry {
		t.Errorf("attempts: got %+v %v, want the 503 recorded as a retry", as, err)
	}

	// A record that cannot be read fails alone, reported by its sequence
	// number.
	poison := fmt.Sprintf(`{"Records":[{"eventID":"1","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",
		"dynamodb":{"Keys":{"pk":{"S":"EVT#%s"},"sk":{"S":"EVT"}},"NewImage":{"pk":{"S":"EVT#%s"},"status":{"S":"lost"}},
		"SequenceNumber":"4242","SizeBytes":10,"StreamViewType":"NEW_AND_OLD_IMAGES"},"eventSourceARN":%q}]}`, e.ID, e.ID, s.streamARN)
	answer, _ = streamFn.invoke(t, []byte(poison))
	if string(answer) != `{"batchItemFailures":[{"itemIdentifier":"4242"}]}` {
		t.Errorf("poison record: got %s, want it reported", answer)
	}
}

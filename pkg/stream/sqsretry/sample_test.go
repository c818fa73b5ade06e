package sqsretry_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/stream/sqsretry"
)

func TestTheDocumentedSQSEventRuns(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "sqs", "event.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	var m sqsretry.Message
	if err := json.Unmarshal([]byte(ev.Records[0].Body), &m); err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil || m.Attempt != 2 || !m.Due.Equal(time.Date(2026, 11, 28, 10, 0, 31, 500e6, time.UTC)) {
		t.Fatalf("the sample's body: got %+v %v, want a valid attempt-2 message", m, err)
	}

	// The same message, naming a delivery of the fixture whose first
	// attempt failed: the handler makes attempt 2 from it.
	f := newFixture(t, policyOf(time.Second), 503, 200)
	f.claimAndHandOff()
	f.deliver(1, f.sqs.take()[0].body)
	next := f.sqs.take()[0]
	f.clock.Advance(2 * time.Second)
	ev.Records[0].Body = next.body
	resp, err := f.handler(t.Context(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("got %v %v, want no failures", resp.BatchItemFailures, err)
	}
	as := f.attempts()
	if len(as) != 2 || as[0].Outcome != event.OutcomeSuccess || as[0].N != 2 {
		t.Errorf("attempts: got %+v, want attempt 2 succeeded", as)
	}
}

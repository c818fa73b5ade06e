package dynamodbstreams_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/stream/dynamodbstreams"
)

// handled records the changes given to it and fails those of failIDs.
type handled struct {
	kinds   []string
	failIDs map[string]bool
}

func (h *handled) handle(_ context.Context, ch event.Change) error {
	if h.failIDs[ch.Event.ID] {
		return errors.New("store unavailable")
	}
	h.kinds = append(h.kinds, string(ch.Kind)+" "+ch.Event.ID)
	return nil
}

func TestHandlerHandlesEveryChangeInOrder(t *testing.T) {
	t.Parallel()
	h := &handled{}
	resp, err := dynamodbstreams.Handler(h.handle, dynamodbstreams.Options{})(context.Background(), sample(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"created 019ac9f1-5a00-7c3e-9d2a-4b1f0e8c7a61",
		"delivered 019ac9f1-5a00-7c3e-9d2a-4b1f0e8c7a61",
		"expired 019ac9f2-0000-7aaa-8bbb-0c0d0e0f1011",
	}
	if !reflect.DeepEqual(h.kinds, want) {
		t.Errorf("got %v, want %v", h.kinds, want)
	}
	b, _ := json.Marshal(resp)
	if string(b) != `{"batchItemFailures":[]}` {
		t.Errorf("got %s, want no failures", b)
	}
}

func TestHandlerReportsTheFirstFailureAndStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ev       func(events.DynamoDBEvent) events.DynamoDBEvent
		failIDs  map[string]bool
		wantSeq  string
		wantDone []string
	}{
		{"handling fails", func(e events.DynamoDBEvent) events.DynamoDBEvent { return e },
			map[string]bool{"019ac9f1-5a00-7c3e-9d2a-4b1f0e8c7a61": true}, "111100000000000000000001", nil},
		{"a later record fails", func(e events.DynamoDBEvent) events.DynamoDBEvent { return e },
			map[string]bool{"019ac9f2-0000-7aaa-8bbb-0c0d0e0f1011": true}, "111300000000000000000003",
			[]string{"created 019ac9f1-5a00-7c3e-9d2a-4b1f0e8c7a61", "delivered 019ac9f1-5a00-7c3e-9d2a-4b1f0e8c7a61"}},
		{"a poison record", func(e events.DynamoDBEvent) events.DynamoDBEvent {
			e.Records[1].Change.NewImage = nil
			return e
		}, nil, "111200000000000000000002", []string{"created 019ac9f1-5a00-7c3e-9d2a-4b1f0e8c7a61"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := &handled{failIDs: tt.failIDs}
			resp, err := dynamodbstreams.Handler(h.handle, dynamodbstreams.Options{})(context.Background(), tt.ev(sample(t)))
			if err != nil {
				t.Fatal(err)
			}
			want := []events.DynamoDBBatchItemFailure{{ItemIdentifier: tt.wantSeq}}
			if !reflect.DeepEqual(resp.BatchItemFailures, want) {
				t.Errorf("failures: got %v, want %v", resp.BatchItemFailures, want)
			}
			if !reflect.DeepEqual(h.kinds, tt.wantDone) {
				t.Errorf("handled: got %v, want %v (nothing after the failure)", h.kinds, tt.wantDone)
			}
		})
	}
}

package dynamostore_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/event"
)

// fakeDynamoDB answers every request with one canned error, the way
// DynamoDB's JSON protocol does, and counts the attempts it saw. This is the
// unit-level fake the retry budget and the error mapping are tested with:
// moto cannot be made to throttle.
func fakeDynamoDB(t *testing.T, status int, errType, message string) (endpoint string, attempts *atomic.Int64) {
	t.Helper()
	attempts = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		attempts.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, errType, message)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, attempts
}

func fakeClient(endpoint string, attempts int) *dynamodb.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: aws.CredentialsProviderFunc(staticCreds)}
	return dynamostore.NewClient(cfg, dynamostore.ClientOptions{
		Endpoint:    endpoint,
		MaxAttempts: attempts,
		MaxBackoff:  time.Millisecond, // keep the test fast; the budget is what is tested
	})
}

func fakeStore(t *testing.T, endpoint string, attempts int) *dynamostore.Store {
	t.Helper()
	s, err := dynamostore.New(fakeClient(endpoint, attempts), dynamostore.Options{Table: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	const budget = 3
	for _, tc := range []struct {
		name         string
		status       int
		errType      string
		message      string
		wantCode     event.Code
		wantRetry    int // RetryAfterSeconds
		wantAttempts int64
	}{
		{"provisioned throughput exceeded", 400, "ProvisionedThroughputExceededException", "rate of requests exceeds the allowed throughput", event.CodeUnavailable, 2, budget},
		{"throttling", 400, "ThrottlingException", "rate exceeded", event.CodeUnavailable, 2, budget},
		{"request limit exceeded", 400, "RequestLimitExceeded", "throughput exceeds the current throughput limit for your account", event.CodeUnavailable, 2, budget},
		{"internal server error", 500, "InternalServerError", "internal server error", event.CodeUnavailable, 1, budget},
		{"service unavailable", 503, "ServiceUnavailable", "service unavailable", event.CodeUnavailable, 1, budget},
		{"item too large", 400, "ValidationException", "Item size has exceeded the maximum allowed size", event.CodeTooLarge, 0, 1},
		{"missing table", 400, "ResourceNotFoundException", "Requested resource not found", event.CodeInternal, 0, 1},
		{"access denied", 400, "AccessDeniedException", "not authorized to perform dynamodb:GetItem", event.CodeInternal, 0, 1},
		{"other validation", 400, "ValidationException", "One or more parameter values were invalid", event.CodeInternal, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			endpoint, attempts := fakeDynamoDB(t, tc.status, tc.errType, tc.message)
			s := fakeStore(t, endpoint, budget)
			_, err := s.Get(context.Background(), "019ac9f0-9a4b-7c3e-8f00-0123456789ab")
			wantCode(t, err, tc.wantCode)
			var e *event.Error
			if !asEventError(err, &e) {
				t.Fatalf("got %T, want *event.Error", err)
			}
			if e.RetryAfterSeconds != tc.wantRetry {
				t.Errorf("RetryAfterSeconds: got %d, want %d", e.RetryAfterSeconds, tc.wantRetry)
			}
			if got := attempts.Load(); got != tc.wantAttempts {
				t.Errorf("attempts: got %d, want %d", got, tc.wantAttempts)
			}
			// What a client sees never carries DynamoDB's own text.
			if strings.Contains(e.Message, tc.message) || strings.Contains(e.Message, tc.errType) {
				t.Errorf("client message %q leaks the cause", e.Message)
			}
			if e.Err == nil || !strings.Contains(e.Err.Error(), tc.errType) {
				t.Errorf("cause: got %v, want it to name %s for the log", e.Err, tc.errType)
			}
		})
	}
}

// TestErrorMappingConnection: a store that cannot connect at all is
// unavailable (503), not broken (500).
func TestErrorMappingConnection(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	endpoint := srv.URL
	srv.Close() // nothing listens there now
	s := fakeStore(t, endpoint, 2)
	err := s.Ping(context.Background())
	wantCode(t, err, event.CodeUnavailable)
}

// TestErrorMappingEveryOperation: every operation maps errors the same way.
func TestErrorMappingEveryOperation(t *testing.T) {
	t.Parallel()
	endpoint, _ := fakeDynamoDB(t, 400, "ThrottlingException", "rate exceeded")
	s := fakeStore(t, endpoint, 1)
	var ids event.IDs
	ctx := context.Background()
	e := build(t, &ids, start, event.NewEvent{})
	keyed := build(t, &ids, start, event.NewEvent{IdempotencyKey: "k"})
	ops := map[string]func() error{
		"Put":          func() error { _, _, err := s.Put(ctx, e); return err },
		"Put with key": func() error { _, _, err := s.Put(ctx, keyed); return err },
		"Get":          func() error { _, err := s.Get(ctx, e.ID); return err },
		"ListPending":  func() error { _, err := s.ListPending(ctx, event.ListQuery{}); return err },
		"ListPending by source": func() error {
			_, err := s.ListPending(ctx, event.ListQuery{Type: "t", Source: "s"})
			return err
		},
		"Ack":  func() error { _, _, err := s.Ack(ctx, e.ID); return err },
		"Ping": func() error { return s.Ping(ctx) },
		"CreateSubscription": func() error {
			return s.CreateSubscription(ctx, event.NewSubscription{TargetURL: "https://example.com/h"}.Build(ids.New(start), event.NewSecret(), start))
		},
		"GetSubscription":     func() error { _, err := s.GetSubscription(ctx, e.ID); return err },
		"ListSubscriptions":   func() error { _, err := s.ListSubscriptions(ctx); return err },
		"DeleteSubscription":  func() error { return s.DeleteSubscription(ctx, e.ID) },
		"DisableSubscription": func() error { _, _, err := s.DisableSubscription(ctx, e.ID, "x"); return err },
		"ClaimDelivery": func() error {
			_, _, err := s.ClaimDelivery(ctx, event.NewDelivery(e.ID, keyed.ID, start))
			return err
		},
		"RecordAttempt": func() error {
			d := event.NewDelivery(e.ID, keyed.ID, start)
			d.State, d.Attempts = event.DeliverySucceeded, 1
			return s.RecordAttempt(ctx, d, event.Attempt{DeliveryID: d.ID, SubscriptionID: keyed.ID, EventID: e.ID,
				N: 1, At: start, StatusCode: 200, Outcome: event.OutcomeSuccess})
		},
		"ListAttempts": func() error { _, err := s.ListAttempts(ctx, keyed.ID, 10); return err },
	}
	for name, op := range ops {
		if got := event.ErrorCode(op()); got != event.CodeUnavailable {
			t.Errorf("%s: got %q, want %q", name, got, event.CodeUnavailable)
		}
	}
	l, err := dynamostore.NewLimiter(fakeClient(endpoint, 1), dynamostore.LimiterOptions{Table: "fake"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Allow(ctx, "1.2.3.4"); event.ErrorCode(err) != event.CodeUnavailable {
		t.Errorf("Limiter.Allow: got %v, want unavailable", err)
	}
	if err := l.Failed(ctx, "1.2.3.4"); event.ErrorCode(err) != event.CodeUnavailable {
		t.Errorf("Limiter.Failed: got %v, want unavailable", err)
	}
}

// TestErrorMappingTransactionThrottled: DynamoDB reports throttling inside
// a transaction as a TransactionCanceledException whose reasons say
// ThrottlingError; RecordAttempt, the one transaction, must call that
// unavailable like any other throttling, not internal.
func TestErrorMappingTransactionThrottled(t *testing.T) {
	t.Parallel()
	for _, reason := range []string{"ThrottlingError", "ProvisionedThroughputExceeded"} {
		t.Run(reason, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",`+
					`"Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [%s, None]",`+
					`"CancellationReasons":[{"Code":%q,"Message":"Throughput exceeds the current capacity of your table or index."},{"Code":"None"}]}`, reason, reason)
			}))
			t.Cleanup(srv.Close)
			s := fakeStore(t, srv.URL, 1)
			var ids event.IDs
			d := event.NewDelivery(ids.New(start), ids.New(start), start)
			a := event.Attempt{DeliveryID: d.ID, SubscriptionID: d.SubscriptionID, EventID: d.EventID, N: 1, At: start,
				StatusCode: 200, Outcome: event.OutcomeSuccess}
			d.State, d.Attempts = event.DeliverySucceeded, 1
			err := s.RecordAttempt(context.Background(), d, a)
			wantCode(t, err, event.CodeUnavailable)
			var e *event.Error
			asEventError(err, &e)
			if e.RetryAfterSeconds <= 0 {
				t.Errorf("RetryAfterSeconds: got %d, want a hint", e.RetryAfterSeconds)
			}
		})
	}
}

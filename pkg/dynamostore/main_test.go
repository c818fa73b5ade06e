package dynamostore_test

import (
	"context"
	"fmt"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/triggershq/triggers/internal/testenv"
	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/event"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// motoConfig is the SDK configuration for the shared moto_server.
func motoConfig(t testing.TB) aws.Config {
	t.Helper()
	moto := testenv.StartMoto(t)
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  aws.CredentialsProviderFunc(staticCreds),
		BaseEndpoint: aws.String(moto.Endpoint),
	}
}

func staticCreds(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test", Source: "test"}, nil
}

var tableSeq atomic.Int64

var unsafeTableChars = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// newTable creates a fresh table in moto for one test and returns a client
// for it. Tests share one moto_server and isolate themselves by table name.
func newTable(t testing.TB, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, string) {
	t.Helper()
	client := dynamostore.NewClient(motoConfig(t), dynamostore.ClientOptions{}, optFns...)
	name := unsafeTableChars.ReplaceAllString(t.Name(), "_")
	if len(name) > 180 {
		name = name[len(name)-180:]
	}
	name = fmt.Sprintf("t%d-%s", tableSeq.Add(1), name)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dynamostore.CreateTable(ctx, client, name); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return client, name
}

// newStore returns a store on a fresh table.
func newStore(t testing.TB, opts dynamostore.Options, optFns ...func(*dynamodb.Options)) *dynamostore.Store {
	t.Helper()
	client, table := newTable(t, optFns...)
	opts.Table = table
	s, err := dynamostore.New(client, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

var start = time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.UTC)

// build returns a new pending event made as the HTTP layer makes it.
func build(t testing.TB, ids *event.IDs, now time.Time, n event.NewEvent) event.Event {
	t.Helper()
	if n.Type == "" {
		n.Type = "order.created"
	}
	if n.Source == "" {
		n.Source = "shop"
	}
	if n.Payload == nil {
		n.Payload = []byte(`{"n":1}`)
	}
	if err := n.Validate(); err != nil {
		t.Fatalf("invalid test input: %v", err)
	}
	return n.Build(ids.New(now), now, 0)
}

func wantCode(t testing.TB, err error, code event.Code) {
	t.Helper()
	if got := event.ErrorCode(err); got != code {
		t.Fatalf("error code: got %q (%v), want %q", got, err, code)
	}
}

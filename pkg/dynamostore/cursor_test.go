package dynamostore_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/event"
)

// unreachableStore is a store whose every request fails (nothing listens on
// port 1): what it rejects before any request is told apart from what it
// would have sent.
func unreachableStore(t *testing.T, shards int) *dynamostore.Store {
	t.Helper()
	cfg := aws.Config{Region: "us-east-1", Credentials: aws.CredentialsProviderFunc(staticCreds)}
	client := dynamostore.NewClient(cfg, dynamostore.ClientOptions{Endpoint: "http://127.0.0.1:1", MaxAttempts: 1})
	s, err := dynamostore.New(client, dynamostore.Options{Table: "unreachable", PendingShards: shards})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func rawCursor(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }

func TestCursorValidation(t *testing.T) {
	t.Parallel()
	s := unreachableStore(t, 2)
	const id = "019ac9f0-9a4b-7c3e-8f00-0123456789ab"
	// The cursor binds the filters by a fingerprint: the first 8 bytes of
	// sha256(type 0x00 source). A well-formed cursor must get past
	// validation (and then fail to reach the network), or the cases below
	// prove nothing.
	sum := sha256.Sum256([]byte{0})
	emptyFP := hex.EncodeToString(sum[:8])
	valid := rawCursor(`{"v":1,"f":"` + emptyFP + `","p":["<` + id + `","<=` + id + `"]}`)
	if _, err := s.ListPending(context.Background(), event.ListQuery{Cursor: valid}); event.ErrorCode(err) != event.CodeUnavailable {
		t.Fatalf("well-formed cursor: got %v, want the unreachable store's unavailable error", err)
	}
	for _, tc := range []struct {
		name   string
		cursor string
		q      event.ListQuery
	}{
		{"not base64", "!!!", event.ListQuery{}},
		{"padded base64", base64.URLEncoding.EncodeToString([]byte(`{"v":1}`)), event.ListQuery{}},
		{"not json", rawCursor("hello"), event.ListQuery{}},
		{"json array", rawCursor(`[1,2]`), event.ListQuery{}},
		{"wrong version", rawCursor(`{"v":2,"f":"` + emptyFP + `","p":["<` + id + `","-"]}`), event.ListQuery{}},
		{"unknown field", rawCursor(`{"v":1,"f":"` + emptyFP + `","p":["<` + id + `","-"],"table":"other"}`), event.ListQuery{}},
		{"trailing data", rawCursor(`{"v":1,"f":"` + emptyFP + `","p":["<` + id + `","-"]}{}`), event.ListQuery{}},
		{"other shard count", rawCursor(`{"v":1,"f":"` + emptyFP + `","p":["<` + id + `","-","-"]}`), event.ListQuery{}},
		{"all exhausted", rawCursor(`{"v":1,"f":"` + emptyFP + `","p":["-","-"]}`), event.ListQuery{}},
		{"not an id", rawCursor(`{"v":1,"f":"` + emptyFP + `","p":["<EVT#x","-"]}`), event.ListQuery{}},
		{"id without bound", rawCursor(`{"v":1,"f":"` + emptyFP + `","p":["` + id + `","-"]}`), event.ListQuery{}},
		{"empty position", rawCursor(`{"v":1,"f":"` + emptyFP + `","p":["","-"]}`), event.ListQuery{}},
		{"other bound", rawCursor(`{"v":1,"f":"` + emptyFP + `","p":[">` + id + `","-"]}`), event.ListQuery{}},
		{"uppercase id", rawCursor(`{"v":1,"f":"` + emptyFP + `","p":["<` + strings.ToUpper(id) + `","-"]}`), event.ListQuery{}},
		{"other filter", valid, event.ListQuery{Type: "order.created"}},
		{"huge", strings.Repeat("A", 5000), event.ListQuery{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := tc.q
			q.Cursor = tc.cursor
			_, err := s.ListPending(context.Background(), q)
			wantCode(t, err, event.CodeInvalid)
			var e *event.Error
			if !asEventError(err, &e) || e.Field != "cursor" {
				t.Fatalf("error field: got %+v, want cursor", e)
			}
		})
	}
}

func asEventError(err error, target **event.Error) bool { return errors.As(err, target) }

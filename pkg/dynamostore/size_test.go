package dynamostore_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/storetest"
)

// TestItemSizeLimit puts events whose largest item is exactly at the limit
// (stored, by moto too) and one byte over it (CodeTooLarge before any
// write, never a 500 from DynamoDB).
func TestItemSizeLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		key, overKey string
	}{
		{"no idempotency key", "", ""},
		{"idempotency key", strings.Repeat("k", event.MaxIdempotencyKeyLen), strings.Repeat("o", event.MaxIdempotencyKeyLen)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := storetest.NewClock(start)
			s := newStore(t, dynamostore.Options{Now: c.Now})
			var ids event.IDs
			ctx := context.Background()
			// payloadFor returns an event whose largest item is exactly size bytes.
			payloadFor := func(size int, key string) event.Event {
				probe := build(t, &ids, c.Now(), event.NewEvent{Payload: json.RawMessage(`{"s":""}`), IdempotencyKey: key})
				evt, idem := dynamostore.StoredSizes(probe, dynamostore.DefaultPendingShards)
				overhead := max(evt, idem) - len(probe.Payload)
				probe.Payload = json.RawMessage(`{"s":"` + strings.Repeat("é", (size-overhead-8)/2) + strings.Repeat("x", (size-overhead-8)%2) + `"}`)
				evt, idem = dynamostore.StoredSizes(probe, dynamostore.DefaultPendingShards)
				if got := max(evt, idem); got != size {
					t.Fatalf("the test built an item of %d bytes, want %d", got, size)
				}
				return probe
			}

			at := payloadFor(dynamostore.MaxItemBytes, tc.key)
			if _, _, err := s.Put(ctx, at); err != nil {
				t.Fatalf("Put at the limit: %v", err)
			}
			got, err := s.Get(ctx, at.ID)
			if err != nil || string(got.Payload) != string(at.Payload) {
				t.Fatalf("Get at the limit: payload intact %v, err %v", string(got.Payload) == string(at.Payload), err)
			}
			if _, ok, err := s.Ack(ctx, at.ID); err != nil || !ok {
				t.Fatalf("Ack at the limit: transitioned=%v err=%v", ok, err)
			}

			over := payloadFor(dynamostore.MaxItemBytes+1, tc.overKey)
			_, _, err = s.Put(ctx, over)
			wantCode(t, err, event.CodeTooLarge)
			if _, err := s.Get(ctx, over.ID); event.ErrorCode(err) != event.CodeNotFound {
				t.Fatalf("Get after a too-large Put: got %v, want not found", err)
			}
			if tc.overKey != "" {
				// Nothing was reserved: the key is still free.
				if _, replayed, err := s.Put(ctx, build(t, &ids, c.Now(), event.NewEvent{IdempotencyKey: tc.overKey})); err != nil || replayed {
					t.Fatalf("Put with the key afterwards: replayed=%v err=%v", replayed, err)
				}
			}
		})
	}
}

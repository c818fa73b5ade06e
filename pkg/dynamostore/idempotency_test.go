package dynamostore_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"

	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/storetest"
)

// TestIdempotencyHeal: the process dies after reserving the idempotency key
// and before writing the event. The producer never got its 201 and retries
// with the same key and body: that retry writes the original event from the
// reservation's copy and returns it as the replay.
func TestIdempotencyHeal(t *testing.T) {
	t.Parallel()
	var crash atomic.Bool
	c := storetest.NewClock(start)
	s := newStore(t, dynamostore.Options{Now: c.Now}, crashBeforeEventWrite(&crash))
	ctx := context.Background()
	var ids event.IDs
	n := event.NewEvent{Payload: json.RawMessage(`{"order":7}`), IdempotencyKey: "heal-me"}
	first := build(t, &ids, c.Now(), n)

	crash.Store(true)
	if _, _, err := s.Put(ctx, first); err == nil {
		t.Fatal("Put during the simulated crash: got nil error")
	}
	crash.Store(false)
	if _, err := s.Get(ctx, first.ID); event.ErrorCode(err) != event.CodeNotFound {
		t.Fatalf("Get after the crash: got %v, want not found (the event item was never written)", err)
	}
	// The half-written state already guards the key against another body.
	other := n
	other.Payload = json.RawMessage(`{"order":8}`)
	_, _, err := s.Put(ctx, build(t, &ids, c.Now(), other))
	wantCode(t, err, event.CodeConflict)

	c.Advance(1e9)
	retry := build(t, &ids, c.Now(), n)
	got, replayed, err := s.Put(ctx, retry)
	if err != nil || !replayed {
		t.Fatalf("retry Put: replayed=%v err=%v, want true, nil", replayed, err)
	}
	if got.ID != first.ID || !got.CreatedAt.Equal(first.CreatedAt) || string(got.Payload) != string(first.Payload) {
		t.Fatalf("retry Put returned %s created %v, want the original %s created %v", got.ID, got.CreatedAt, first.ID, first.CreatedAt)
	}
	if e, err := s.Get(ctx, first.ID); err != nil || e.Status != event.StatusPending {
		t.Fatalf("Get after the heal: %v %v", e.Status, err)
	}
	sameIDs(t, "ListPending after the heal", idsOf(listAll(t, s, event.ListQuery{})), []string{first.ID})
	if _, err := s.Get(ctx, retry.ID); event.ErrorCode(err) != event.CodeNotFound {
		t.Fatalf("Get(retry's own id): got %v, want not found", err)
	}
}

// TestLostResponse: DynamoDB applied a write but its response was lost, and
// the SDK sent it again. The retry meets its own write in the condition
// check; that is success, not a conflict, an id collision or a replay.
func TestLostResponse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		key  string
		lose int64 // PutItem responses to lose
	}{
		{"event item", "", 1},
		{"reservation", "lost-1", 1},
		{"reservation and event item", "lost-2", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var lose atomic.Int64
			c := storetest.NewClock(start)
			s := newStore(t, dynamostore.Options{Now: c.Now}, lostResponse("PutItem", &lose))
			var ids event.IDs
			e := build(t, &ids, c.Now(), event.NewEvent{IdempotencyKey: tc.key})
			lose.Store(tc.lose)
			got, replayed, err := s.Put(context.Background(), e)
			if err != nil || replayed || got.ID != e.ID {
				t.Fatalf("Put: got %s replayed=%v err=%v, want %s replayed=false", got.ID, replayed, err, e.ID)
			}
			if lose.Load() > 0 {
				t.Fatalf("the test lost only %d of %d responses", tc.lose-lose.Load(), tc.lose)
			}
			sameIDs(t, "ListPending", idsOf(listAll(t, s, event.ListQuery{})), []string{e.ID})
		})
	}
}

package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

var feedTests = []test{
	{"Lifecycle", testFeedLifecycle},
	{"CommitOrderAndLimit", testFeedOrder},
	{"Checkpoints", testFeedCheckpoints},
	{"PruneKeepsUnconsumed", testFeedPrune},
}

// changes returns every change after seq.
func changes(t *testing.T, h *harness, f event.ChangeFeed, after uint64) []event.SequencedChange {
	t.Helper()
	var all []event.SequencedChange
	for {
		batch, err := f.Changes(h.ctx, after, 50)
		if err != nil {
			t.Fatalf("Changes(%d): %v", after, err)
		}
		if len(batch) == 0 {
			return all
		}
		all = append(all, batch...)
		after = batch[len(batch)-1].Seq
	}
}

func wantChange(t *testing.T, c event.SequencedChange, kind event.ChangeKind, e event.Event, at time.Time) {
	t.Helper()
	if c.Kind != kind {
		t.Fatalf("change %d kind: got %q, want %q", c.Seq, c.Kind, kind)
	}
	if !c.At.Equal(event.Timestamp(at)) {
		t.Fatalf("change %d At: got %v, want %v", c.Seq, c.At, event.Timestamp(at))
	}
	sameEvent(t, fmt.Sprintf("change %d (%s)", c.Seq, kind), c.Event, e)
}

// testFeedLifecycle: created on Put but not on replay, delivered on the
// first Ack only, expired when retention removes the event.
func testFeedLifecycle(t *testing.T, h *harness) {
	f, sw := h.feed()
	if got := changes(t, h, f, 0); len(got) != 0 {
		t.Fatalf("fresh store: got %d changes, want 0", len(got))
	}
	created := h.put(event.NewEvent{IdempotencyKey: "feed-1"}, time.Hour)
	got := changes(t, h, f, 0)
	if len(got) != 1 {
		t.Fatalf("after Put: got %d changes, want 1", len(got))
	}
	wantChange(t, got[0], event.ChangeCreated, created, Start)
	last := got[0].Seq

	h.clock.Advance(time.Second)
	if _, replayed, err := h.s.Put(h.ctx, h.build(event.NewEvent{IdempotencyKey: "feed-1"}, time.Hour)); err != nil || !replayed {
		t.Fatalf("replay: replayed=%v err=%v", replayed, err)
	}
	if _, _, err := h.s.Put(h.ctx, h.build(event.NewEvent{IdempotencyKey: "feed-1", Type: "other"}, time.Hour)); event.ErrorCode(err) != event.CodeConflict {
		t.Fatalf("conflict: got %v", err)
	}
	if got := changes(t, h, f, last); len(got) != 0 {
		t.Fatalf("after replay and conflict: got %d changes, want 0", len(got))
	}

	ackAt := h.clock.Advance(time.Minute)
	delivered, _ := h.ack(created.ID)
	h.clock.Advance(time.Minute)
	h.ack(created.ID)
	_, _, _ = h.s.Ack(h.ctx, h.build(event.NewEvent{}, 0).ID) // unknown: no change
	got = changes(t, h, f, last)
	if len(got) != 1 {
		t.Fatalf("after three acks: got %d changes, want 1", len(got))
	}
	wantChange(t, got[0], event.ChangeDelivered, delivered, ackAt)
	last = got[0].Seq

	sweepAt := created.ExpiresAt.Add(time.Second)
	h.clock.Set(sweepAt)
	if n, err := sw.SweepExpired(h.ctx); err != nil || n != 1 {
		t.Fatalf("SweepExpired: got %d, %v; want 1, nil", n, err)
	}
	got = changes(t, h, f, last)
	if len(got) != 1 {
		t.Fatalf("after sweep: got %d changes, want 1", len(got))
	}
	wantChange(t, got[0], event.ChangeExpired, delivered, sweepAt)
}

func testFeedOrder(t *testing.T, h *harness) {
	f, _ := h.feed()
	var want []event.ChangeKind
	var wantIDs []string
	for i := range 30 {
		e := h.put(event.NewEvent{Type: fmt.Sprintf("t%d", i%3)}, 0)
		want, wantIDs = append(want, event.ChangeCreated), append(wantIDs, e.ID)
		if i%4 == 0 {
			h.ack(e.ID)
			want, wantIDs = append(want, event.ChangeDelivered), append(wantIDs, e.ID)
		}
	}
	got := changes(t, h, f, 0)
	if len(got) != len(want) {
		t.Fatalf("got %d changes, want %d", len(got), len(want))
	}
	for i, c := range got {
		if i > 0 && c.Seq <= got[i-1].Seq {
			t.Fatalf("change %d: seq %d after %d, want increasing", i, c.Seq, got[i-1].Seq)
		}
		if c.Kind != want[i] || c.Event.ID != wantIDs[i] {
			t.Fatalf("change %d: got %s %s, want %s %s", i, c.Kind, c.Event.ID, want[i], wantIDs[i])
		}
	}
	// Limits and positions.
	for _, limit := range []int{1, 7} {
		batch, err := f.Changes(h.ctx, got[2].Seq, limit)
		if err != nil {
			t.Fatalf("Changes: %v", err)
		}
		if len(batch) != limit || batch[0].Seq != got[3].Seq {
			t.Fatalf("Changes(after %d, %d): got %d starting at %d, want %d starting at %d",
				got[2].Seq, limit, len(batch), batch[0].Seq, limit, got[3].Seq)
		}
	}
	for _, after := range []uint64{got[len(got)-1].Seq, got[len(got)-1].Seq + 1000, ^uint64(0)} {
		batch, err := f.Changes(h.ctx, after, 10)
		if err != nil || len(batch) != 0 {
			t.Fatalf("Changes(after %d): got %d, %v; want 0, nil", after, len(batch), err)
		}
	}
}

// testFeedCheckpoints: a consumer resumes exactly after its saved
// position, and consumers do not affect each other.
func testFeedCheckpoints(t *testing.T, h *harness) {
	f, _ := h.feed()
	for _, c := range []string{"metrics", "webhooks"} {
		if seq, err := f.Checkpoint(h.ctx, c); err != nil || seq != 0 {
			t.Fatalf("Checkpoint(%s) never saved: got %d, %v; want 0, nil", c, seq, err)
		}
	}
	h.putN(10, "a", "b")
	all := changes(t, h, f, 0)
	if err := f.SaveCheckpoint(h.ctx, "metrics", all[3].Seq); err != nil {
		t.Fatalf("SaveCheckpoint: %v", err)
	}
	if err := f.SaveCheckpoint(h.ctx, "webhooks", all[7].Seq); err != nil {
		t.Fatalf("SaveCheckpoint: %v", err)
	}
	for _, tc := range []struct {
		consumer string
		from     int
	}{{"metrics", 4}, {"webhooks", 8}} {
		seq, err := f.Checkpoint(h.ctx, tc.consumer)
		if err != nil || seq != all[tc.from-1].Seq {
			t.Fatalf("Checkpoint(%s): got %d, %v; want %d", tc.consumer, seq, err, all[tc.from-1].Seq)
		}
		rest := changes(t, h, f, seq)
		if len(rest) != len(all)-tc.from || rest[0].Seq != all[tc.from].Seq {
			t.Fatalf("%s resumed with %d changes from seq %d, want %d from %d",
				tc.consumer, len(rest), rest[0].Seq, len(all)-tc.from, all[tc.from].Seq)
		}
	}
	// Saving again moves only that consumer.
	if err := f.SaveCheckpoint(h.ctx, "metrics", all[9].Seq); err != nil {
		t.Fatalf("SaveCheckpoint: %v", err)
	}
	if seq, _ := f.Checkpoint(h.ctx, "webhooks"); seq != all[7].Seq {
		t.Fatalf("webhooks after metrics moved: got %d, want %d", seq, all[7].Seq)
	}
	if seq, _ := f.Checkpoint(h.ctx, "metrics"); seq != all[9].Seq {
		t.Fatalf("metrics: got %d, want %d", seq, all[9].Seq)
	}
}

// testFeedPrune: saving checkpoints and sweeping may prune changes every
// consumer with a checkpoint has passed, but never one such a consumer
// still needs.
func testFeedPrune(t *testing.T, h *harness) {
	f, sw := h.feed()
	h.putN(10, "a", "b")
	all := changes(t, h, f, 0)
	// slow is known (has a checkpoint) before fast moves past everything.
	if err := f.SaveCheckpoint(h.ctx, "slow", all[2].Seq); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveCheckpoint(h.ctx, "fast", all[9].Seq); err != nil {
		t.Fatal(err)
	}
	if rest := changes(t, h, f, all[2].Seq); len(rest) != 7 {
		t.Fatalf("slow consumer after fast saved: got %d changes, want 7", len(rest))
	}
	if _, err := sw.SweepExpired(h.ctx); err != nil {
		t.Fatalf("SweepExpired: %v", err)
	}
	rest := changes(t, h, f, all[2].Seq)
	if len(rest) != 7 || rest[0].Seq != all[3].Seq {
		t.Fatalf("slow consumer after prune: got %d changes, want 7 from seq %d", len(rest), all[3].Seq)
	}
}

package boltstore_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/triggershq/triggers/pkg/boltstore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/storetest"
)

// bundle is one test's store, its file and its clock.
type bundle struct {
	s     *boltstore.Store
	path  string
	clock *storetest.Clock
	ids   *event.IDs
	opts  boltstore.Options
}

func setup(t *testing.T, opts boltstore.Options) *bundle {
	t.Helper()
	b := &bundle{path: filepath.Join(t.TempDir(), "triggers.db"), clock: storetest.NewClock(storetest.Start), ids: new(event.IDs)}
	opts.Now = b.clock.Now
	b.opts = opts
	b.open(t)
	t.Cleanup(func() { _ = b.s.Close() })
	return b
}

func (b *bundle) open(t *testing.T) {
	t.Helper()
	s, err := boltstore.Open(b.path, b.opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	b.s = s
}

func (b *bundle) reopen(t *testing.T) {
	t.Helper()
	if err := b.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	b.open(t)
}

func (b *bundle) build(typ string, retention time.Duration) event.Event {
	now := b.clock.Now()
	n := event.NewEvent{Type: typ, Source: "src", Payload: json.RawMessage(`{"k":"v"}`)}
	return n.Build(b.ids.New(now), now, retention)
}

func (b *bundle) put(t *testing.T, typ string, retention time.Duration) event.Event {
	t.Helper()
	e, _, err := b.s.Put(t.Context(), b.build(typ, retention))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	return e
}

func (b *bundle) check(t *testing.T) {
	t.Helper()
	if err := b.s.Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func (b *bundle) pendingCount(t *testing.T) int {
	t.Helper()
	n, err := b.s.PendingCount(t.Context())
	if err != nil {
		t.Fatalf("PendingCount: %v", err)
	}
	return n
}

func TestReopenKeepsEverything(t *testing.T) {
	t.Parallel()
	b := setup(t, boltstore.Options{})
	ctx := t.Context()
	var events []event.Event
	for i := range 10 {
		events = append(events, b.put(t, fmt.Sprintf("t%d", i%2), 0))
	}
	acked, _, err := b.s.Ack(ctx, events[3].ID)
	if err != nil {
		t.Fatal(err)
	}
	keyed := b.build("keyed", 0)
	keyed.IdempotencyKey = "reopen-key"
	if _, _, err := b.s.Put(ctx, keyed); err != nil {
		t.Fatal(err)
	}
	if err := b.s.SaveCheckpoint(ctx, "c", 4); err != nil {
		t.Fatal(err)
	}
	changes, err := b.s.Changes(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}

	b.reopen(t)
	b.check(t)
	got, err := b.s.Get(ctx, acked.ID)
	if err != nil || got.Status != event.StatusDelivered || !got.UpdatedAt.Equal(acked.UpdatedAt) {
		t.Fatalf("acked event after reopen: got %+v, %v", got, err)
	}
	if n := b.pendingCount(t); n != 10 {
		t.Fatalf("PendingCount after reopen: got %d, want 10", n)
	}
	page, err := b.s.ListPending(ctx, event.ListQuery{Type: "t1"})
	if err != nil || len(page.Events) != 4 {
		t.Fatalf("ListPending type t1 after reopen: got %d, %v; want 4", len(page.Events), err)
	}
	again := b.build("keyed", 0)
	again.IdempotencyKey = "reopen-key"
	if e, replayed, err := b.s.Put(ctx, again); err != nil || !replayed || e.ID != keyed.ID {
		t.Fatalf("replay after reopen: got %s replayed=%v %v, want %s", e.ID, replayed, err, keyed.ID)
	}
	if seq, err := b.s.Checkpoint(ctx, "c"); err != nil || seq != 4 {
		t.Fatalf("Checkpoint after reopen: got %d, %v; want 4", seq, err)
	}
	after, err := b.s.Changes(ctx, 0, 100)
	if err != nil || len(after) != len(changes) {
		t.Fatalf("Changes after reopen: got %d, %v; want %d", len(after), err, len(changes))
	}
	// The sequence continues after the last change rather than restarting.
	b.put(t, "t0", 0)
	next, err := b.s.Changes(ctx, changes[len(changes)-1].Seq, 10)
	if err != nil || len(next) != 1 || next[0].Seq != changes[len(changes)-1].Seq+1 {
		t.Fatalf("first change after reopen: got %+v, %v", next, err)
	}
}

func TestSweepInChunks(t *testing.T) {
	t.Parallel()
	b := setup(t, boltstore.Options{SweepChunk: 10})
	ctx := t.Context()
	var keep []event.Event
	for i := range 40 {
		retention := time.Hour
		if i%8 == 0 {
			retention = 2 * time.Hour
		}
		e := b.build("t", retention)
		if i%3 == 0 {
			e.IdempotencyKey = fmt.Sprintf("k%d", i)
		}
		if _, _, err := b.s.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			if _, _, err := b.s.Ack(ctx, e.ID); err != nil {
				t.Fatal(err)
			}
		}
		if retention > time.Hour {
			keep = append(keep, e)
		}
	}
	before := b.pendingCount(t)
	b.clock.Advance(time.Hour)
	n, err := b.s.SweepExpired(ctx)
	if err != nil || n != 35 {
		t.Fatalf("SweepExpired: got %d, %v; want 35 (in chunks of 10)", n, err)
	}
	b.check(t)
	if got, want := b.pendingCount(t), before-28; got != want {
		// 40 events, 5 kept; 8 acked, 1 of them kept: 35 expire, 28 pending.
		t.Fatalf("PendingCount after sweep: got %d, want %d", got, want)
	}
	for _, e := range keep {
		if _, err := b.s.Get(ctx, e.ID); err != nil {
			t.Fatalf("Get(kept %s): %v", e.ID, err)
		}
	}
	changes, err := b.s.Changes(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	expired := 0
	for _, c := range changes {
		if c.Kind == event.ChangeExpired {
			expired++
		}
	}
	if expired != 35 {
		t.Fatalf("expired changes: got %d, want 35", expired)
	}
}

// TestListSkipsExpiredInBoundedWork: a page never scans more than a bounded
// number of unswept expired events; it returns short with a cursor, and the
// listing still reaches every live event.
func TestListSkipsExpiredInBoundedWork(t *testing.T) {
	t.Parallel()
	b := setup(t, boltstore.Options{})
	ctx := t.Context()
	live := b.put(t, "t", 2*time.Hour)
	batch := make([]event.Event, 2500)
	for i := range batch {
		batch[i] = b.build("t", time.Hour)
	}
	if err := b.s.PutMany(ctx, batch); err != nil {
		t.Fatal(err)
	}
	newest := b.put(t, "t", 2*time.Hour)
	b.clock.Advance(time.Hour)
	var got []string
	pages := 0
	q := event.ListQuery{Limit: 10}
	for {
		p, err := b.s.ListPending(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range p.Events {
			got = append(got, e.ID)
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if want := []string{newest.ID, live.ID}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("listed %v, want %v", got, want)
	}
	if pages < 3 {
		t.Fatalf("pages: got %d, want at least 3 (2,500 expired events, at most 1,000 skipped per page)", pages)
	}
}

func TestPendingCountUnderConcurrency(t *testing.T) {
	t.Parallel()
	b := setup(t, boltstore.Options{})
	ctx := t.Context()
	const writers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*3)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e, _, err := b.s.Put(ctx, b.build(fmt.Sprintf("w%d", w), 0))
				if err != nil {
					errs <- err
					continue
				}
				if i%2 == 0 {
					// Two racing acks of the same event count once.
					var inner sync.WaitGroup
					for range 2 {
						inner.Go(func() {
							if _, _, err := b.s.Ack(ctx, e.ID); err != nil {
								errs <- err
							}
						})
					}
					inner.Wait()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got, want := b.pendingCount(t), writers*each/2; got != want {
		t.Fatalf("PendingCount: got %d, want %d", got, want)
	}
	b.check(t)
}

func TestLockedFileFailsFast(t *testing.T) {
	t.Parallel()
	b := setup(t, boltstore.Options{})
	_, err := boltstore.Open(b.path, boltstore.Options{LockTimeout: 50 * time.Millisecond})
	if err == nil {
		t.Fatal("second Open of a held file: got nil error")
	}
	if !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("error: got %q, want it to say the file is locked", err)
	}
	if err := b.s.Ping(t.Context()); err != nil {
		t.Fatalf("the first store after the failed Open: %v", err)
	}
}

func TestOpenRefusesForeignFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notBolt := filepath.Join(dir, "text")
	if err := os.WriteFile(notBolt, []byte(strings.Repeat("not a database\n", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	otherBolt := filepath.Join(dir, "other.db")
	db, err := bbolt.Open(otherBolt, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("widgets")); return err }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{notBolt, otherBolt, dir} {
		if s, err := boltstore.Open(path, boltstore.Options{}); err == nil {
			_ = s.Close()
			t.Fatalf("Open(%s): got nil error", path)
		}
	}
}

// TestCorruptRecordsAreInternalErrors writes garbage where records belong:
// reads report CodeInternal with the cause and never panic.
func TestCorruptRecordsAreInternalErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, boltstore.Options{})
	ctx := t.Context()
	e := b.put(t, "t", 0)
	if err := b.s.Close(); err != nil {
		t.Fatal(err)
	}
	id, _ := parseUUID(e.ID)
	garbage := [][]byte{nil, {1}, {1, 1, 0, 0}, {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9},
		append([]byte{1, 1}, make([]byte, 24)...), append(append([]byte{1, 1}, make([]byte, 24)...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)}
	for i, g := range garbage {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			db, err := bbolt.Open(b.path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bbolt.Tx) error { return tx.Bucket([]byte("events")).Put(id, g) }); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			b.open(t)
			defer b.s.Close()
			_, err = b.s.Get(ctx, e.ID)
			wantInternal(t, "Get", err)
			_, err = b.s.ListPending(ctx, event.ListQuery{})
			wantInternal(t, "ListPending", err)
			_, _, err = b.s.Ack(ctx, e.ID)
			wantInternal(t, "Ack", err)
			wantInternal(t, "Check", b.s.Check(ctx))
			if err := b.s.Ping(ctx); err != nil {
				t.Fatalf("Ping with one bad record: %v", err)
			}
		})
	}
}

func wantInternal(t *testing.T, op string, err error) {
	t.Helper()
	if event.ErrorCode(err) != event.CodeInternal || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("%s: got %v, want an internal error naming the corrupt record", op, err)
	}
}

func TestPutManyMatchesPut(t *testing.T) {
	t.Parallel()
	b := setup(t, boltstore.Options{})
	ctx := t.Context()
	events := make([]event.Event, 50)
	for i := range events {
		events[i] = b.build([]string{"a", "b"}[i%2], 0)
	}
	if err := b.s.PutMany(ctx, events); err != nil {
		t.Fatal(err)
	}
	b.check(t)
	if n := b.pendingCount(t); n != 50 {
		t.Fatalf("PendingCount: got %d, want 50", n)
	}
	p, err := b.s.ListPending(ctx, event.ListQuery{Type: "a", Limit: 100})
	if err != nil || len(p.Events) != 25 || p.Events[0].ID != events[48].ID {
		t.Fatalf("ListPending after PutMany: got %d, %v", len(p.Events), err)
	}
	changes, err := b.s.Changes(ctx, 0, 100)
	if err != nil || len(changes) != 50 {
		t.Fatalf("Changes after PutMany: got %d, %v; want 50", len(changes), err)
	}
	keyed := b.build("a", 0)
	keyed.IdempotencyKey = "k"
	if err := b.s.PutMany(ctx, []event.Event{keyed}); event.ErrorCode(err) != event.CodeInvalid {
		t.Fatalf("PutMany with an idempotency key: got %v, want invalid", err)
	}
	if err := b.s.PutMany(ctx, events[:1]); event.ErrorCode(err) != event.CodeInternal {
		t.Fatalf("PutMany of an existing id: got %v, want internal", err)
	}
	b.check(t)
}

func TestPutRejectsWhatItCannotIndex(t *testing.T) {
	t.Parallel()
	b := setup(t, boltstore.Options{MaxEventBytes: 1024})
	for _, tc := range []struct {
		name   string
		change func(*event.Event)
		code   event.Code
	}{
		{"bad id", func(e *event.Event) { e.ID = "x" }, event.CodeInvalid},
		{"v4 id", func(e *event.Event) { e.ID = "9b2a6a8e-0d9f-4b4e-9c57-1d6f1c1a0b3c" }, event.CodeInvalid},
		{"nul in type", func(e *event.Event) { e.Type = "a\x00b" }, event.CodeInvalid},
		{"empty source", func(e *event.Event) { e.Source = "" }, event.CodeInvalid},
		{"bad key", func(e *event.Event) { e.IdempotencyKey = "a\nb" }, event.CodeInvalid},
		{"too large", func(e *event.Event) { e.Payload = json.RawMessage(`{"s":"` + strings.Repeat("x", 2000) + `"}`) }, event.CodeTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := b.build("t", 0)
			tc.change(&e)
			_, _, err := b.s.Put(t.Context(), e)
			if got := event.ErrorCode(err); got != tc.code {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
		})
	}
	b.check(t)
}

func TestOutboxPruning(t *testing.T) {
	t.Parallel()
	b := setup(t, boltstore.Options{OutboxRetention: 24 * time.Hour})
	ctx := t.Context()
	for range 5 {
		b.put(t, "t", 0)
	}
	count := func() int {
		t.Helper()
		c, err := b.s.Changes(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(c)
	}
	// No checkpoint and young: kept for a consumer that starts later.
	if _, err := b.s.SweepExpired(ctx); err != nil || count() != 5 {
		t.Fatalf("after sweep without consumers: %d changes, %v; want 5", count(), err)
	}
	// A consumer that passed 3 drops 1..3 as it saves its checkpoint,
	// without waiting for the sweeper.
	if err := b.s.SaveCheckpoint(ctx, "c", 3); err != nil {
		t.Fatal(err)
	}
	if count() != 2 {
		t.Fatalf("after checkpoint 3: %d changes; want 2", count())
	}
	// Past the outbox retention everything goes, consumed or not.
	b.clock.Advance(24*time.Hour + time.Second)
	b.put(t, "t", 0)
	if _, err := b.s.SweepExpired(ctx); err != nil || count() != 1 {
		t.Fatalf("after outbox retention: %d changes, %v; want 1 (the new one)", count(), err)
	}
}

func TestCloseWaitsForWriters(t *testing.T) {
	t.Parallel()
	b := setup(t, boltstore.Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make(chan error, 200)
	stored := make(chan string, 200)
	for i := range 200 {
		wg.Go(func() {
			e := b.build(fmt.Sprintf("t%d", i%4), 0)
			_, _, err := b.s.Put(ctx, e)
			if err == nil {
				stored <- e.ID
			}
			results <- err
		})
	}
	if err := b.s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(results)
	close(stored)
	for err := range results {
		if err != nil && event.ErrorCode(err) != event.CodeUnavailable {
			t.Fatalf("Put racing Close: got %v, want nil or unavailable", err)
		}
	}
	b.open(t)
	for id := range stored {
		if _, err := b.s.Get(ctx, id); err != nil {
			t.Fatalf("event %s acknowledged before Close is missing: %v", id, err)
		}
	}
	b.check(t)
}

// TestCursorIsStrict: only the exact encoding this store issues is taken,
// so one position has one cursor and nothing else reaches a seek.
func TestCursorIsStrict(t *testing.T) {
	t.Parallel()
	b := setup(t, boltstore.Options{})
	for range 3 {
		b.put(t, "t", 0)
	}
	p, err := b.s.ListPending(t.Context(), event.ListQuery{Limit: 1})
	if err != nil || p.Next == "" {
		t.Fatalf("ListPending: %v, next %q", err, p.Next)
	}
	last := p.Next[len(p.Next)-1]
	flipped := p.Next[:len(p.Next)-1] + string(last^1) // changes only padding bits or the id
	raw, err := base64.RawURLEncoding.DecodeString(p.Next)
	if err != nil {
		t.Fatal(err)
	}
	raw[0] = 2 // a future cursor version
	otherVersion := base64.RawURLEncoding.EncodeToString(raw)
	raw[0], raw[7] = 1, 0x40 // an id that is not a UUIDv7
	notV7 := base64.RawURLEncoding.EncodeToString(raw)
	for _, c := range []string{flipped, p.Next + "=", strings.ToUpper(p.Next), otherVersion, notV7} {
		_, err := b.s.ListPending(t.Context(), event.ListQuery{Cursor: c})
		if c == flipped && err == nil {
			continue // flipping the last character may land on another valid id
		}
		if event.ErrorCode(err) != event.CodeInvalid {
			t.Fatalf("cursor %q: got %v, want invalid", c, err)
		}
	}
}

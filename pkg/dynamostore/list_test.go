package dynamostore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/storetest"
)

const shards = dynamostore.DefaultPendingShards

// putInShards stores one event per entry of layout, in that order (oldest
// first), each in the shard the entry names, and returns them.
func putInShards(t *testing.T, s event.Store, c *storetest.Clock, layout []int) []event.Event {
	t.Helper()
	var ids event.IDs
	out := make([]event.Event, len(layout))
	for i, shard := range layout {
		c.Advance(time.Millisecond)
		id := ids.New(c.Now())
		for dynamostore.ShardOf(id, shards) != shard {
			id = ids.New(c.Now())
		}
		n := event.NewEvent{Type: "t", Source: "s", Payload: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
		out[i] = n.Build(id, c.Now(), 0)
		if _, _, err := s.Put(context.Background(), out[i]); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	return out
}

// TestCursorResumesEveryShard walks the inbox page by page over layouts
// that exhaust some shards early, or pile most events into one: every event
// comes exactly once, newest first, and exhausted shards are not queried
// again.
func TestCursorResumesEveryShard(t *testing.T) {
	t.Parallel()
	repeat := func(shard, n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = shard
		}
		return out
	}
	roundRobin := func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i % shards
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		layout []int
		limits []int
	}{
		{"two shards used", []int{2, 5}, []int{1, 2, 100}},
		{"one hot shard", append(append(repeat(3, 30), roundRobin(7)...), repeat(3, 5)...), []int{1, 4, 10, 100}},
		{"all in one shard", repeat(6, 45), []int{7, 40, 100}},
		{"even", roundRobin(64), []int{1, 3, 13, 100}},
		{"old shard exhausted first", append(repeat(1, 5), roundRobin(30)...), []int{5, 11}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			counter := newRequestCounter()
			c := storetest.NewClock(start)
			s := newStore(t, dynamostore.Options{Now: c.Now}, counter.option())
			events := putInShards(t, s, c, tc.layout)
			used := map[int]bool{}
			for _, shard := range tc.layout {
				used[shard] = true
			}
			want := reversed(idsOf(events))
			for _, limit := range tc.limits {
				counter.take()
				var got []string
				q := event.ListQuery{Limit: limit}
				for page := 0; ; page++ {
					p, err := s.ListPending(context.Background(), q)
					if err != nil {
						t.Fatalf("limit %d page %d: %v", limit, page, err)
					}
					queries := counter.take()["Query"]
					if tc.name == "two shards used" && limit == 1 && page == 1 && queries != 1 {
						// Page 0 took the newer event and saw six shards
						// empty; only the older event's shard is left.
						t.Errorf("second page: %d queries, want 1 (the only shard not exhausted)", queries)
					}
					if page > 0 && queries > len(used)*4 {
						t.Errorf("limit %d page %d: %d queries, want at most %d (4 rounds over the %d shards holding events)",
							limit, page, queries, len(used)*4, len(used))
					}
					if len(p.Events) > limit {
						t.Fatalf("limit %d page %d: got %d events", limit, page, len(p.Events))
					}
					got = append(got, idsOf(p.Events)...)
					if p.Next == "" {
						break
					}
					if page > len(events)+1 {
						t.Fatalf("limit %d: no end after %d pages", limit, page)
					}
					q.Cursor = p.Next
				}
				sameIDs(t, fmt.Sprintf("walk with limit %d", limit), got, want)
			}
		})
	}
}

// TestListWhileChanging: events acked during a walk are not returned later
// in it, and events stored during it belong to the next walk, not this one.
func TestListWhileChanging(t *testing.T) {
	t.Parallel()
	c := storetest.NewClock(start)
	s := newStore(t, dynamostore.Options{Now: c.Now})
	ctx := context.Background()
	var ids event.IDs
	events := putN(t, s, &ids, c, 40, "t")
	p, err := s.ListPending(ctx, event.ListQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := idsOf(p.Events)
	acked := map[string]bool{}
	for _, e := range events[:20] { // older than the first page
		if _, _, err := s.Ack(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		acked[e.ID] = true
	}
	putN(t, s, &ids, c, 5, "t") // newer than everything
	got = append(got, idsOf(listAll(t, s, event.ListQuery{Limit: 10, Cursor: p.Next}))...)
	var want []string
	for _, id := range reversed(idsOf(events)) {
		if !acked[id] {
			want = append(want, id)
		}
	}
	sameIDs(t, "walk", got, want)
}

// TestListFilters: the type filter reads gsi2, the source filter is a
// filter expression on a bounded read; both walks find exactly their events.
func TestListFilters(t *testing.T) {
	t.Parallel()
	c := storetest.NewClock(start)
	s := newStore(t, dynamostore.Options{Now: c.Now})
	ctx := context.Background()
	var ids event.IDs
	var all []event.Event
	for i := range 300 {
		n := event.NewEvent{
			Type:    fmt.Sprintf("type%d", i%3),
			Source:  fmt.Sprintf("src%d", i%5),
			Payload: json.RawMessage(`{}`),
		}
		if i == 150 {
			n.Source = "rare"
		}
		e := build(t, &ids, c.Now(), n)
		if _, _, err := s.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
		all = append(all, e)
	}
	match := func(q event.ListQuery) []string {
		var out []string
		for i := len(all) - 1; i >= 0; i-- {
			e := all[i]
			if (q.Type == "" || e.Type == q.Type) && (q.Source == "" || e.Source == q.Source) {
				out = append(out, e.ID)
			}
		}
		return out
	}
	for _, q := range []event.ListQuery{
		{Type: "type1", Limit: 17},
		{Source: "src2", Limit: 9},
		{Source: "rare", Limit: 100},
		{Source: "rare", Limit: 1},
		{Type: "type0", Source: "src0", Limit: 4},
		{Type: "type0", Source: "rare"},
		{Type: "none"},
		{Source: "none", Limit: 3},
	} {
		t.Run(fmt.Sprintf("%+v", q), func(t *testing.T) {
			t.Parallel()
			sameIDs(t, "walk", idsOf(listAll(t, s, q)), match(q))
		})
	}
	// A type or source no event can have is an empty page, not a request
	// DynamoDB would reject (a key over 2 KB) and not a 500.
	for _, q := range []event.ListQuery{
		{Type: strings.Repeat("t", 3000)},
		{Source: strings.Repeat("s", 300_000)},
		{Type: "bad\x00type"},
	} {
		p, err := s.ListPending(ctx, q)
		if err != nil || len(p.Events) != 0 || p.Next != "" {
			t.Errorf("ListPending(%.20q…): got %d events next %q err %v, want an empty last page", q.Type+q.Source, len(p.Events), p.Next, err)
		}
	}
}

// TestCursorBoundsUntouchedShard: a shard that the first page read but took
// nothing from must resume at its newest unconsumed event, not at its top,
// or events stored into it after the page would appear in the middle of the
// walk, out of order.
func TestCursorBoundsUntouchedShard(t *testing.T) {
	t.Parallel()
	c := storetest.NewClock(start)
	s := newStore(t, dynamostore.Options{Now: c.Now})
	ctx := context.Background()
	old := putInShards(t, s, c, []int{1, 1, 1, 1, 1})
	newer := putInShards(t, s, c, []int{0, 0, 0, 0, 0})
	p, err := s.ListPending(ctx, event.ListQuery{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	sameIDs(t, "first page", idsOf(p.Events), reversed(idsOf(newer)))
	putInShards(t, s, c, []int{1, 1, 0}) // after the walk began
	sameIDs(t, "rest of the walk", idsOf(listAll(t, s, event.ListQuery{Limit: 5, Cursor: p.Next})), reversed(idsOf(old)))
}

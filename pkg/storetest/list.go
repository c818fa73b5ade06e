package storetest

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/triggershq/triggers/pkg/event"
)

var listTests = []test{
	{"EmptyStore", testListEmpty},
	{"NewestFirst", testListNewestFirst},
	{"Limits", testListLimits},
	{"PagingVisitsEachOnce", testListPaging},
	{"PagingWhileChanging", testListPagingWhileChanging},
	{"Filters", testListFilters},
	{"FilterMatchesNothing", testListFilterNothing},
	{"DeliveredNotListed", testListDelivered},
	{"GarbageCursor", testListGarbageCursor},
	{"CursorFromOtherFilter", testListCursorOtherFilter},
}

func testListEmpty(t *testing.T, h *harness) {
	p := h.list(event.ListQuery{})
	if len(p.Events) != 0 || p.Next != "" {
		t.Fatalf("empty store: got %d events, next %q; want none, \"\"", len(p.Events), p.Next)
	}
}

func testListNewestFirst(t *testing.T, h *harness) {
	events := h.putN(5, "a", "b")
	p := h.list(event.ListQuery{Limit: 10})
	sameIDs(t, "ListPending", ids(p.Events), newestFirst(events))
	if p.Next != "" {
		t.Fatalf("Next: got %q, want \"\" (no more events)", p.Next)
	}
	for i, e := range p.Events {
		sameEvent(t, fmt.Sprintf("event %d", i), e, events[len(events)-1-i])
	}
}

func testListLimits(t *testing.T, h *harness) {
	events := h.putN(150, "a", "b")
	newest := newestFirst(events)
	for _, tc := range []struct {
		limit, want int
	}{
		{1, 1},
		{2, 2},
		{99, 99},
		{100, 100},
		{0, event.MaxListLimit},
		{-1, event.MaxListLimit},
		{101, event.MaxListLimit},
		{1000, event.MaxListLimit},
		{math.MaxInt, event.MaxListLimit},
		{math.MinInt, event.MaxListLimit},
	} {
		t.Run(fmt.Sprint(tc.limit), func(t *testing.T) {
			h := h.with(t)
			p := h.list(event.ListQuery{Limit: tc.limit})
			sameIDs(t, "page", ids(p.Events), newest[:tc.want])
			if p.Next == "" {
				t.Fatal("Next: got \"\", want a cursor (more events remain)")
			}
		})
	}
}

// pageThrough lists with limit, checking each page's size and order, and
// returns the ids in the order seen.
func pageThrough(t *testing.T, h *harness, q event.ListQuery, between func(page int)) []string {
	t.Helper()
	var seen []string
	for page := 0; ; page++ {
		if page > 10_000 {
			t.Fatal("paging did not end")
		}
		p := h.list(q)
		if len(p.Events) > max(q.Limit, 1) && q.Limit > 0 {
			t.Fatalf("page %d: got %d events, limit %d", page, len(p.Events), q.Limit)
		}
		seen = append(seen, ids(p.Events)...)
		if p.Next == "" {
			return seen
		}
		q.Cursor = p.Next
		if between != nil {
			between(page)
		}
	}
}

func testListPaging(t *testing.T, h *harness) {
	events := h.putN(23, "a", "b")
	for _, limit := range []int{1, 2, 5, 22, 23, 24, 100} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			h := h.with(t)
			sameIDs(t, "paged", pageThrough(t, h, event.ListQuery{Limit: limit}, nil), newestFirst(events))
		})
	}
}

// testListPagingWhileChanging acks and creates events between pages: each
// event pending throughout is seen exactly once, in order, with no gaps;
// events acked before their page are not seen; new events are newer than
// the cursor, so they belong to a fresh listing, not this one.
func testListPagingWhileChanging(t *testing.T, h *harness) {
	for _, q := range []event.ListQuery{
		{Limit: 7},
		{Limit: 7, Type: "a"},
		{Limit: 3, Type: "a", Source: "s1"},
	} {
		t.Run(fmt.Sprintf("type=%q source=%q", q.Type, q.Source), func(t *testing.T) {
			h := h.with(t)
			for i := range 60 {
				h.put(event.NewEvent{Type: []string{"a", "b"}[i%2], Source: []string{"s1", "s2", "s1"}[i%3]}, 0)
			}
			// Earlier subtests share the store: what matters is what is
			// pending when this listing starts.
			match := ids(h.listAll(event.ListQuery{Type: q.Type, Source: q.Source}))
			acked := map[string]bool{}
			rng := rand.New(rand.NewPCG(1, 2))
			var created []string
			seen := pageThrough(t, h, q, func(int) {
				// Ack one event at random (seen or not) and create one.
				id := match[rng.IntN(len(match))]
				if _, transitioned := h.ack(id); transitioned {
					acked[id] = true
				}
				created = append(created, h.put(event.NewEvent{Type: q.Type, Source: q.Source}, 0).ID)
			})
			var want []string
			seenSet := map[string]bool{}
			for _, id := range seen {
				if seenSet[id] {
					t.Fatalf("event %s listed twice", id)
				}
				seenSet[id] = true
			}
			for _, id := range match {
				// An event acked after its page was listed was seen; one acked
				// before was not. Either is right; a gap is not.
				if acked[id] && !seenSet[id] {
					continue
				}
				want = append(want, id)
			}
			sameIDs(t, "paged while changing", seen, want)
			for _, id := range created {
				if seenSet[id] {
					t.Fatalf("event %s created after the listing began was listed on a later page", id)
				}
			}
		})
	}
}

func testListFilters(t *testing.T, h *harness) {
	// Names that are prefixes of each other catch prefix-matching bugs.
	types := []string{"order", "order.created", "order.created.v2", "ord"}
	sources := []string{"shop", "shop2", "sho", "shop/eu"}
	var events []event.Event
	for i := range 48 {
		events = append(events, h.put(event.NewEvent{Type: types[i%len(types)], Source: sources[(i/len(types))%len(sources)]}, 0))
	}
	check := func(t *testing.T, q event.ListQuery) {
		t.Helper()
		var want []event.Event
		for _, e := range events {
			if (q.Type == "" || e.Type == q.Type) && (q.Source == "" || e.Source == q.Source) {
				want = append(want, e)
			}
		}
		if len(want) == 0 {
			t.Fatalf("the suite's query %+v matches nothing", q)
		}
		sameIDs(t, "one page", ids(h.list(q).Events), newestFirst(want))
		q.Limit = 2
		sameIDs(t, "pages of 2", pageThrough(t, h, q, nil), newestFirst(want))
	}
	for _, typ := range types {
		t.Run("type="+typ, func(t *testing.T) { check(t, event.ListQuery{Type: typ}) })
	}
	for _, src := range sources {
		t.Run("source="+src, func(t *testing.T) { check(t, event.ListQuery{Source: src}) })
	}
	for _, typ := range types {
		for _, src := range sources {
			t.Run("type="+typ+",source="+src, func(t *testing.T) { check(t, event.ListQuery{Type: typ, Source: src}) })
		}
	}
}

// testListFilterNothing: a filter no event matches — including values no
// event could have — lists nothing. A store may instead reject a value it
// could never store with CodeInvalid; it never fails otherwise.
func testListFilterNothing(t *testing.T, h *harness) {
	h.putN(3, "order", "shop")
	for _, q := range []event.ListQuery{
		{Type: "orde"},
		{Type: "order.created"},
		{Source: "sho"},
		{Type: "order", Source: "shop2"},
		{Type: "shop", Source: "order"},
		{Type: "order\x00shop"},
		{Type: "order", Source: "shop\x00"},
		{Type: "order\x00", Source: "shop"},
		{Type: "\x00"},
		{Type: "order#shop"},
		{Type: "%", Source: "*"},
		{Type: "\xff\xfe"},
		{Type: strings.Repeat("t", 10_000)},
		{Source: strings.Repeat("s", 10_000)},
	} {
		t.Run(fmt.Sprintf("%.40q/%.40q", q.Type, q.Source), func(t *testing.T) {
			p, err := h.s.ListPending(h.ctx, q)
			if err != nil {
				wantCode(t, err, event.CodeInvalid)
				return
			}
			if len(p.Events) != 0 || p.Next != "" {
				t.Fatalf("got %d events, next %q; want none", len(p.Events), p.Next)
			}
		})
	}
}

func testListDelivered(t *testing.T, h *harness) {
	events := h.putN(6, "a", "b")
	h.ack(events[1].ID)
	h.ack(events[4].ID)
	want := newestFirst([]event.Event{events[0], events[2], events[3], events[5]})
	sameIDs(t, "one page", ids(h.list(event.ListQuery{}).Events), want)
	sameIDs(t, "pages of 1", pageThrough(t, h, event.ListQuery{Limit: 1}, nil), want)
	sameIDs(t, "type", ids(h.listAll(event.ListQuery{Type: "a"})), want)
	sameIDs(t, "source", ids(h.listAll(event.ListQuery{Source: "b"})), want)
	sameIDs(t, "both", ids(h.listAll(event.ListQuery{Type: "a", Source: "b"})), want)
}

func testListGarbageCursor(t *testing.T, h *harness) {
	h.putN(3, "a", "b")
	valid := h.list(event.ListQuery{Limit: 1}).Next
	if valid == "" {
		t.Fatal("no cursor to tamper with")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	random := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	cases := map[string]string{
		"space":              " ",
		"equals":             "=",
		"two chars":          "AA",
		"percent":            "%%%",
		"null":               "null",
		"json":               `{"id":"x"}`,
		"zero byte":          "\x00",
		"invalid utf-8":      "\xff\xfe\xfd",
		"newline":            "abc\ndef",
		"an event id":        h.build(event.NewEvent{}, 0).ID,
		"random base64 8":    random(8),
		"random base64 17":   random(17),
		"random base64 32":   random(32),
		"random base64 4096": random(4096),
		"huge":               strings.Repeat("A", 1<<20),
		"valid plus junk":    valid + "A",
		"valid plus pad":     valid + "==",
		"valid doubled":      valid + valid,
		"valid truncated":    valid[:len(valid)-1],
		"valid with space":   " " + valid,
		"valid std base64":   strings.NewReplacer("-", "+", "_", "/").Replace(valid) + "+/",
	}
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		cursor := cases[name]
		t.Run(name, func(t *testing.T) {
			for _, q := range []event.ListQuery{
				{Cursor: cursor},
				{Cursor: cursor, Type: "a"},
				{Cursor: cursor, Source: "b"},
				{Cursor: cursor, Type: "a", Source: "b"},
			} {
				_, err := h.s.ListPending(h.ctx, q)
				wantCode(t, err, event.CodeInvalid)
				var e *event.Error
				if errorsAs(err, &e); e.Field != "cursor" {
					t.Fatalf("error field: got %q, want \"cursor\"", e.Field)
				}
			}
		})
	}
}

// testListCursorOtherFilter resumes a listing with a cursor issued for
// other filters: the store either serves a page or says CodeInvalid, and
// never fails another way.
func testListCursorOtherFilter(t *testing.T, h *harness) {
	for i := range 20 {
		h.put(event.NewEvent{Type: []string{"a", "b"}[i%2], Source: []string{"x", "y"}[i%4/2]}, 0)
	}
	queries := []event.ListQuery{{}, {Type: "a"}, {Source: "y"}, {Type: "b", Source: "x"}, {Type: "zzz"}}
	for _, from := range queries[:4] {
		from.Limit = 2
		cursor := h.list(from).Next
		if cursor == "" {
			t.Fatalf("no cursor from %+v", from)
		}
		for _, to := range queries {
			to.Cursor = cursor
			p, err := h.s.ListPending(h.ctx, to)
			if err != nil {
				wantCode(t, err, event.CodeInvalid)
				continue
			}
			for _, e := range p.Events {
				if (to.Type != "" && e.Type != to.Type) || (to.Source != "" && e.Source != to.Source) {
					t.Fatalf("cursor from %+v used with %+v listed %s/%s", from, to, e.Type, e.Source)
				}
			}
		}
	}
}

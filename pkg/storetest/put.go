package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

var putTests = []test{
	{"RoundTripEveryField", testPutRoundTrip},
	{"TimesTruncatedToMicrosecondsUTC", testPutTimes},
	{"PayloadBytesExact", testPayloadBytes},
	{"PayloadNearBodyLimit", testPayloadLarge},
	{"IdempotentReplay", testIdempotentReplay},
	{"IdempotencyConflict", testIdempotencyConflict},
	{"IdempotencyKeyFreeAfterExpiry", testIdempotencyKeyFree},
	{"IdempotencyConcurrent", testIdempotencyConcurrent},
	{"NoKeyNoDedup", testNoKeyNoDedup},
	{"ConcurrentPuts", testConcurrentPuts},
}

func testPutRoundTrip(t *testing.T, h *harness) {
	want := h.build(event.NewEvent{
		Type:           "order.créé",
		Source:         "shop/ü-1",
		Payload:        json.RawMessage(`{"id":42,"b":[true,null,"x"]}`),
		IdempotencyKey: "key-roundtrip-1",
	}, 48*time.Hour)
	got, replayed, err := h.s.Put(h.ctx, want)
	if err != nil || replayed {
		t.Fatalf("Put: got replayed=%v err=%v, want false, nil", replayed, err)
	}
	sameEvent(t, "Put result", got, want)
	sameEvent(t, "Get", h.get(want.ID), want)
	if want.Status != event.StatusPending {
		t.Fatalf("Build made status %q", want.Status)
	}
	if !want.ExpiresAt.Equal(want.CreatedAt.Add(48 * time.Hour)) {
		t.Fatalf("Build made ExpiresAt %v", want.ExpiresAt)
	}
	p := h.list(event.ListQuery{})
	if len(p.Events) != 1 {
		t.Fatalf("ListPending: got %d events, want 1", len(p.Events))
	}
	sameEvent(t, "ListPending", p.Events[0], want)
}

// testPutTimes stores an event whose times have nanoseconds and a zone:
// the store keeps them as event.Timestamp would (UTC, microseconds).
func testPutTimes(t *testing.T, h *harness) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	created := time.Date(2026, 11, 28, 15, 30, 0, 999999999, zone)
	e := h.build(event.NewEvent{}, 0)
	e.CreatedAt = created
	e.UpdatedAt = created.Add(time.Nanosecond)
	e.ExpiresAt = created.Add(event.DefaultRetention + 1500*time.Nanosecond)
	want := e
	want.CreatedAt = event.Timestamp(e.CreatedAt)
	want.UpdatedAt = event.Timestamp(e.UpdatedAt)
	want.ExpiresAt = event.Timestamp(e.ExpiresAt)
	got := h.putEvent(e)
	sameEvent(t, "Put result", got, want)
	sameEvent(t, "Get", h.get(e.ID), want)
}

// payloadCases are payloads a producer may send that a decoding store would
// change: each must come back byte for byte.
func payloadCases() []struct{ name, payload string } {
	deep := strings.Repeat(`{"a":`, 999) + `[1]` + strings.Repeat(`}`, 999)
	return []struct{ name, payload string }{
		{"empty object", `{}`},
		{"long decimal", `{"n":1.0000000000000000001}`},
		{"huge exponent", `{"n":1e400}`},
		{"negative zero", `{"n":-0}`},
		{"negative zero float", `{"n":-0.0}`},
		{"big integer", `{"n":12345678901234567890123}`},
		{"exponent forms", `{"a":1E+2,"b":1e-7,"c":0.1e1}`},
		{"unicode escape kept", `{"s":"\u00e9"}`},
		{"uppercase escape kept", `{"s":"\u00C9\u00e9"}`},
		{"surrogate pair escape", `{"s":"\ud83d\ude00"}`},
		{"lone surrogate escape", `{"s":"\ud800"}`},
		{"nul escape", `{"s":"a\u0000b"}`},
		{"raw utf-8", `{"s":"é😀中文"}`},
		{"line separators raw", "{\"s\":\"a\u2028b\u2029c\"}"},
		{"html characters", `{"s":"<script>&amp;</script>"}`},
		{"escaped slash", `{"s":"a\/b"}`},
		{"key order", `{"b":1,"a":2,"c":{"z":1,"y":2}}`},
		{"duplicate keys", `{"a":1,"a":2,"a":{"a":3}}`},
		{"spaces inside strings", `{"s":"  two  spaces  "}`},
		{"insignificant whitespace", "{ \"a\" : 1 ,\n\t\"b\" : [ 1 , 2 ] }"},
		{"nesting 1000 deep", deep},
		{"arrays nested", `{"a":` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `}`},
	}
}

func testPayloadBytes(t *testing.T, h *harness) {
	for _, tc := range payloadCases() {
		t.Run(tc.name, func(t *testing.T) {
			h := h.with(t)
			if !json.Valid([]byte(tc.payload)) {
				t.Fatalf("the suite's payload is not valid JSON: %q", tc.payload)
			}
			// Put the bytes as given (Build would compact whitespace): a
			// store never rewrites a payload.
			e := h.build(event.NewEvent{}, 0)
			e.Payload = json.RawMessage(tc.payload)
			h.putEvent(e)
			if got := h.get(e.ID).Payload; string(got) != tc.payload {
				t.Errorf("Get payload: got %s, want %s", truncate(got), truncate([]byte(tc.payload)))
			}
			for _, got := range h.list(event.ListQuery{Limit: 1}).Events {
				if string(got.Payload) != tc.payload {
					t.Errorf("ListPending payload: got %s, want %s", truncate(got.Payload), truncate([]byte(tc.payload)))
				}
			}
			acked, _ := h.ack(e.ID)
			if string(acked.Payload) != tc.payload {
				t.Errorf("Ack payload: got %s, want %s", truncate(acked.Payload), truncate([]byte(tc.payload)))
			}
		})
	}
}

// MinBodyBytes is the request body size every store must hold as one event:
// the HTTP layer's default body limit (256 KiB).
const MinBodyBytes = 256 << 10

// bigPayload returns a JSON object of exactly n bytes whose content is
// multi-byte UTF-8 and escapes, so a store that re-encodes it changes it.
func bigPayload(n int) string {
	const unit = `é\u00e9 \" \\ 😀 `
	var b strings.Builder
	b.WriteString(`{"s":"`)
	for b.Len()+len(unit)+2 <= n {
		b.WriteString(unit)
	}
	b.WriteString(strings.Repeat("x", n-b.Len()-2))
	b.WriteString(`"}`)
	return b.String()
}

func testPayloadLarge(t *testing.T, h *harness) {
	for _, size := range []int{MinBodyBytes - 1024, MinBodyBytes} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			h := h.with(t)
			payload := bigPayload(size)
			if len(payload) != size || !json.Valid([]byte(payload)) {
				t.Fatalf("the suite's payload: %d bytes, valid %v", len(payload), json.Valid([]byte(payload)))
			}
			e := h.build(event.NewEvent{Payload: json.RawMessage(payload)}, 0)
			h.putEvent(e)
			if got := h.get(e.ID).Payload; string(got) != payload {
				t.Errorf("Get payload: got %s, want %s", truncate(got), truncate([]byte(payload)))
			}
		})
	}
	// Far beyond any body limit: stored exactly, or CodeTooLarge, and never
	// anything else.
	t.Run("8MiB", func(t *testing.T) {
		h := h.with(t)
		payload := bigPayload(8 << 20)
		e := h.build(event.NewEvent{Payload: json.RawMessage(payload)}, 0)
		_, _, err := h.s.Put(h.ctx, e)
		if err != nil {
			wantCode(t, err, event.CodeTooLarge)
			if _, err := h.s.Get(h.ctx, e.ID); event.ErrorCode(err) != event.CodeNotFound {
				t.Fatalf("Get after a too-large Put: got %v, want not found", err)
			}
			return
		}
		if got := h.get(e.ID).Payload; string(got) != payload {
			t.Errorf("Get payload: got %s, want %s", truncate(got), truncate([]byte(payload)))
		}
	})
}

func testIdempotentReplay(t *testing.T, h *harness) {
	n := event.NewEvent{Type: "a", Source: "b", Payload: json.RawMessage(`{"x":1}`), IdempotencyKey: "replay-1"}
	first := h.put(n, 0)
	h.clock.Advance(time.Minute)
	// The replay arrives with fresh id and times, and whitespace that does
	// not change the fingerprint.
	n.Payload = json.RawMessage(`{ "x" : 1 }`)
	again := h.build(n, 0)
	got, replayed, err := h.s.Put(h.ctx, again)
	if err != nil {
		t.Fatalf("replay Put: %v", err)
	}
	if !replayed {
		t.Fatal("replay Put: got replayed=false, want true")
	}
	sameEvent(t, "replay result", got, first)
	if _, err := h.s.Get(h.ctx, again.ID); event.ErrorCode(err) != event.CodeNotFound {
		t.Fatalf("Get(replay's own id): got %v, want not found", err)
	}
	sameIDs(t, "ListPending after replay", ids(h.listAll(event.ListQuery{})), []string{first.ID})

	// Still a replay after the first event is delivered.
	h.ack(first.ID)
	got, replayed, err = h.s.Put(h.ctx, h.build(n, 0))
	if err != nil || !replayed || got.ID != first.ID || got.Status != event.StatusDelivered {
		t.Fatalf("replay after ack: got %s %s replayed=%v err=%v, want %s delivered replayed=true",
			got.ID, got.Status, replayed, err, first.ID)
	}
}

func testIdempotencyConflict(t *testing.T, h *harness) {
	base := event.NewEvent{Type: "a", Source: "b", Payload: json.RawMessage(`{"x":1}`), IdempotencyKey: "conflict-1"}
	first := h.put(base, 0)
	for _, tc := range []struct {
		name   string
		change func(*event.NewEvent)
	}{
		{"payload", func(n *event.NewEvent) { n.Payload = json.RawMessage(`{"x":2}`) }},
		{"payload key order", func(n *event.NewEvent) { n.Payload = json.RawMessage(`{"x":1,"y":1}`) }},
		{"type", func(n *event.NewEvent) { n.Type = "a2" }},
		{"source", func(n *event.NewEvent) { n.Source = "b2" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.with(t)
			n := base
			tc.change(&n)
			e := h.build(n, 0)
			_, _, err := h.s.Put(h.ctx, e)
			wantCode(t, err, event.CodeConflict)
			if _, err := h.s.Get(h.ctx, e.ID); event.ErrorCode(err) != event.CodeNotFound {
				t.Fatalf("Get(conflicting id): got %v, want not found", err)
			}
		})
	}
	sameIDs(t, "ListPending after conflicts", ids(h.listAll(event.ListQuery{})), []string{first.ID})
}

func testIdempotencyKeyFree(t *testing.T, h *harness) {
	n := event.NewEvent{Payload: json.RawMessage(`{"v":1}`), IdempotencyKey: "expiring-key"}
	first := h.put(n, time.Hour)
	h.clock.Advance(time.Hour - time.Microsecond)
	n2 := n
	n2.Payload = json.RawMessage(`{"v":2}`)
	_, _, err := h.s.Put(h.ctx, h.build(n2, time.Hour))
	wantCode(t, err, event.CodeConflict)

	h.clock.Advance(time.Microsecond) // now == first.ExpiresAt: expired
	second := h.put(n2, time.Hour)
	if second.ID == first.ID {
		t.Fatal("a Put after expiry returned the expired event")
	}
	// The same body as the expired event is a new event too, not a replay
	// of anything: the key now belongs to second, so it conflicts.
	_, _, err = h.s.Put(h.ctx, h.build(n, time.Hour))
	wantCode(t, err, event.CodeConflict)
	got, replayed, err := h.s.Put(h.ctx, h.build(n2, time.Hour))
	if err != nil || !replayed || got.ID != second.ID {
		t.Fatalf("replay of the new holder: got %s replayed=%v err=%v, want %s replayed=true", got.ID, replayed, err, second.ID)
	}
}

// testIdempotencyConcurrent races Puts with one key: exactly one stores.
func testIdempotencyConcurrent(t *testing.T, h *harness) {
	const writers = 8
	n := event.NewEvent{Payload: json.RawMessage(`{"race":true}`), IdempotencyKey: "race-key"}
	events := make([]event.Event, writers)
	for i := range events {
		events[i] = h.build(n, 0)
	}
	results := race(writers, func(i int) (event.Event, bool, error) {
		e, replayed, err := h.s.Put(h.ctx, events[i])
		return e, !replayed, err // the one stored fresh wins
	})
	winner := results[oneWinner(t, "concurrent Puts with one key", results)].v.ID
	for _, r := range results {
		if r.v.ID != winner {
			t.Fatalf("a replay returned %s, want %s", r.v.ID, winner)
		}
	}
	sameIDs(t, "ListPending", ids(h.listAll(event.ListQuery{})), []string{winner})
}

func testNoKeyNoDedup(t *testing.T, h *harness) {
	n := event.NewEvent{Payload: json.RawMessage(`{"same":1}`)}
	a, b := h.put(n, 0), h.put(n, 0)
	n.IdempotencyKey = "k1"
	c := h.put(n, 0)
	n.IdempotencyKey = "k2"
	d := h.put(n, 0)
	sameIDs(t, "ListPending", ids(h.listAll(event.ListQuery{})), newestFirst([]event.Event{a, b, c, d}))
}

// testConcurrentPuts has writers store events at once: every one is stored
// and listed exactly once.
func testConcurrentPuts(t *testing.T, h *harness) {
	const writers, each = 8, 50
	events := make([]event.Event, writers*each)
	for i := range events {
		events[i] = h.build(event.NewEvent{Type: fmt.Sprintf("t%d", i%writers), Payload: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}, 0)
	}
	errs := make([]error, len(events))
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := w; i < len(events); i += writers {
				_, _, errs[i] = h.s.Put(h.ctx, events[i])
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
	}
	sameIDs(t, "ListPending", ids(h.listAll(event.ListQuery{Limit: 37})), newestFirst(events))
	for w := range writers {
		typ := fmt.Sprintf("t%d", w)
		var want []event.Event
		for i := w; i < len(events); i += writers {
			want = append(want, events[i])
		}
		sameIDs(t, "ListPending type="+typ, ids(h.listAll(event.ListQuery{Type: typ})), newestFirst(want))
	}
}

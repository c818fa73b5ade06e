package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

var getTests = []test{
	{"NotFound", testGetNotFound},
	{"AnyStatus", testGetAnyStatus},
}

var ackTests = []test{
	{"PendingToDelivered", testAck},
	{"Repeat", testAckRepeat},
	{"NotFound", testAckNotFound},
	{"Race", testAckRace},
}

// unknownIDs are ids no event has: well-formed ones, and malformed ones a
// client may send, which cannot exist and so are not found either.
func unknownIDs(h *harness) map[string]string {
	id := h.build(event.NewEvent{}, 0).ID // never stored
	return map[string]string{
		"unused v7":   id,
		"empty":       "",
		"word":        "nope",
		"v4 uuid":     "9b2a6a8e-0d9f-4b4e-9c57-1d6f1c1a0b3c",
		"nil uuid":    "00000000-0000-0000-0000-000000000000",
		"no hyphens":  strings.ReplaceAll(id, "-", ""),
		"braces":      "{" + id + "}",
		"urn":         "urn:uuid:" + id,
		"trailing nl": id + "\n",
		"nul inside":  id[:8] + "\x00" + id[9:],
		"huge":        strings.Repeat("a", 100_000),
		"path":        "../../etc/passwd",
		"invalid utf": "\xff\xfe",
	}
}

func testGetNotFound(t *testing.T, h *harness) {
	h.putN(2, "a", "b")
	for name, id := range unknownIDs(h) {
		t.Run(name, func(t *testing.T) {
			_, err := h.s.Get(h.ctx, id)
			wantCode(t, err, event.CodeNotFound)
		})
	}
}

func testGetAnyStatus(t *testing.T, h *harness) {
	e := h.putN(1, "a", "b")[0]
	h.clock.Advance(time.Second)
	acked, _ := h.ack(e.ID)
	sameEvent(t, "Get after ack", h.get(e.ID), acked)
}

func testAck(t *testing.T, h *harness) {
	events := h.putN(3, "a", "b")
	e := events[1]
	now := h.clock.Advance(90 * time.Second)
	got, transitioned := h.ack(e.ID)
	if !transitioned {
		t.Fatal("Ack: got transitioned=false, want true")
	}
	want := e
	want.Status = event.StatusDelivered
	want.UpdatedAt = event.Timestamp(now)
	sameEvent(t, "Ack result", got, want)
	sameEvent(t, "Get after ack", h.get(e.ID), want)
	rest := newestFirst([]event.Event{events[0], events[2]})
	for _, q := range []event.ListQuery{{}, {Type: "a"}, {Source: "b"}, {Type: "a", Source: "b"}, {Limit: 1}} {
		sameIDs(t, "ListPending after ack", ids(h.listAll(q)), rest)
	}
}

func testAckRepeat(t *testing.T, h *harness) {
	e := h.putN(1, "a", "b")[0]
	h.clock.Advance(time.Second)
	first, _ := h.ack(e.ID)
	h.clock.Advance(time.Hour)
	for range 3 {
		got, transitioned := h.ack(e.ID)
		if transitioned {
			t.Fatal("repeat Ack: got transitioned=true, want false")
		}
		sameEvent(t, "repeat Ack", got, first)
	}
	sameEvent(t, "Get", h.get(e.ID), first)
}

func testAckNotFound(t *testing.T, h *harness) {
	h.putN(2, "a", "b")
	for name, id := range unknownIDs(h) {
		t.Run(name, func(t *testing.T) {
			_, _, err := h.s.Ack(h.ctx, id)
			wantCode(t, err, event.CodeNotFound)
		})
	}
	if n := len(h.listAll(event.ListQuery{})); n != 2 {
		t.Fatalf("pending after failed acks: got %d, want 2", n)
	}
}

// testAckRace acks one event from many goroutines: exactly one transitions,
// and all agree on the delivered event.
func testAckRace(t *testing.T, h *harness) {
	const racers = 16
	for round := range 5 {
		e := h.putN(1, "a", "b")[0]
		h.clock.Advance(time.Millisecond)
		results := race(racers, func(int) (event.Event, bool, error) { return h.s.Ack(h.ctx, e.ID) })
		oneWinner(t, fmt.Sprintf("round %d: racing Ack", round), results)
		for _, r := range results {
			sameEvent(t, "racing Ack", r.v, results[0].v)
		}
		if results[0].v.Status != event.StatusDelivered {
			t.Fatalf("round %d: status %q, want delivered", round, results[0].v.Status)
		}
	}
}

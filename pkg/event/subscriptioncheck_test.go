package event_test

import (
	"strings"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

func TestValidDeliveryID(t *testing.T) {
	t.Parallel()
	var ids event.IDs
	now := time.Now()
	good := event.DeliveryID(ids.New(now), ids.New(now))
	cases := map[string]bool{
		good:                                   true,
		strings.ToUpper(good):                  false,
		good[:len(good)-1]:                     false,
		good + "a":                             false,
		"wh_" + good[3:]:                       false,
		"msg_" + strings.Repeat("1", 32):       false, // base32 has no 0, 1, 8, 9
		"msg_" + strings.Repeat("a", 32):       true,
		"msg_" + strings.Repeat("7", 31) + "é": false,
	}
	for id, want := range cases {
		if got := event.ValidDeliveryID(id); got != want {
			t.Errorf("ValidDeliveryID(%q): got %v, want %v", id, got, want)
		}
	}
}

func TestDeliveryValidateCanonicalises(t *testing.T) {
	t.Parallel()
	var ids event.IDs
	now := time.Now()
	d := event.NewDelivery(ids.New(now), ids.New(now), now)
	if err := d.Validate(); err != nil {
		t.Fatalf("NewDelivery: %v", err)
	}
	// Upper-case ids are the same ids: the delivery id is computed from
	// the canonical forms.
	d.EventID, d.SubscriptionID = strings.ToUpper(d.EventID), strings.ToUpper(d.SubscriptionID)
	if err := d.Validate(); err != nil {
		t.Fatalf("upper-case ids: %v", err)
	}
	a := event.Attempt{DeliveryID: d.ID, SubscriptionID: strings.ToLower(d.SubscriptionID), EventID: d.EventID,
		N: 1, At: now, Outcome: event.OutcomeSuccess}
	if err := a.ValidateFor(d); err != nil {
		t.Fatalf("attempt with ids in another case: %v", err)
	}
}

func TestAttemptNormalized(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.FixedZone("x", 3600))
	long := strings.Repeat("a", event.MaxAttemptError-1) + "é" + "tail" // é straddles the bound
	a := event.Attempt{EventID: "ABC", SubscriptionID: "DEF", At: at, Latency: 1500 * time.Nanosecond, Error: long}.Normalized()
	if a.EventID != "abc" || a.SubscriptionID != "def" {
		t.Errorf("ids: got %q %q, want lower case", a.EventID, a.SubscriptionID)
	}
	if !a.At.Equal(event.Timestamp(at)) || a.At.Location() != time.UTC || a.Latency != time.Microsecond {
		t.Errorf("times: got %v and %v, want %v and 1µs", a.At, a.Latency, event.Timestamp(at))
	}
	if want := strings.Repeat("a", event.MaxAttemptError-1); a.Error != want {
		t.Errorf("error: got %d bytes, want %d (cut before the rune that crosses the bound)", len(a.Error), len(want))
	}
	short := event.Attempt{Error: "HTTP 503"}.Normalized()
	if short.Error != "HTTP 503" {
		t.Errorf("short error: got %q", short.Error)
	}
}

func TestDeliveryNormalized(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 10, 0, 0, 999, time.UTC)
	d := event.Delivery{EventID: "E", SubscriptionID: "S", State: event.DeliveryPending, CreatedAt: now, NextAttemptAt: now}.Normalized()
	if d.EventID != "e" || d.SubscriptionID != "s" || !d.UpdatedAt.Equal(event.Timestamp(now)) || !d.NextAttemptAt.Equal(event.Timestamp(now)) {
		t.Errorf("pending: got %+v", d)
	}
	d.State = event.DeliverySucceeded
	if got := d.Normalized(); !got.NextAttemptAt.IsZero() {
		t.Errorf("succeeded: NextAttemptAt got %v, want zero", got.NextAttemptAt)
	}
}

func TestSubscriptionNormalized(t *testing.T) {
	t.Parallel()
	var ids event.IDs
	now := time.Date(2026, 11, 28, 10, 0, 0, 999, time.UTC)
	id := ids.New(now)
	types := []string{"a"}
	s := event.Subscription{ID: strings.ToUpper(id), EventTypes: types, CreatedAt: now}.Normalized()
	if s.ID != id || !s.UpdatedAt.Equal(event.Timestamp(now)) {
		t.Errorf("got %+v", s)
	}
	s.EventTypes[0] = "changed"
	if types[0] != "a" {
		t.Error("Normalized shares EventTypes with its input")
	}
	if got := (event.Subscription{}).Normalized(); got.EventTypes == nil {
		t.Error("nil EventTypes stay nil, want []")
	}
}

func TestSortSubscriptions(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	subs := []event.Subscription{{ID: "c", CreatedAt: t0.Add(time.Second)}, {ID: "b", CreatedAt: t0}, {ID: "a", CreatedAt: t0}}
	event.SortSubscriptions(subs)
	if got := subs[0].ID + subs[1].ID + subs[2].ID; got != "abc" {
		t.Errorf("got %s, want abc (oldest first, ties by id)", got)
	}
}

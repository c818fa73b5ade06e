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

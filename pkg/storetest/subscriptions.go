package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

var subscriptionTests = []test{
	{"CreateGet", testSubCreateGet},
	{"GetNotFound", testSubGetNotFound},
	{"ListOldestFirst", testSubList},
	{"Delete", testSubDelete},
	{"Disable", testSubDisable},
	{"DisableRace", testSubDisableRace},
	{"SecretOnlyThroughTheStore", testSubSecret},
	{"DuplicateID", testSubDuplicate},
	{"RefusesWhatItCannotKey", testSubInvalid},
	{"Cap", testSubCap},
}

// subs returns the store's SubscriptionStore, skipping the test for stores
// without one.
func (h *harness) subs() event.SubscriptionStore {
	h.t.Helper()
	s, ok := h.s.(event.SubscriptionStore)
	if !ok {
		h.t.Skip("the store has no event.SubscriptionStore")
	}
	return s
}

// newSub builds a valid subscription as the HTTP layer would, at the test
// clock's time.
func (h *harness) newSub(target string, types ...string) event.Subscription {
	h.t.Helper()
	n := event.NewSubscription{TargetURL: target, EventTypes: types}
	if err := n.Validate(); err != nil {
		h.t.Fatalf("the suite built invalid input: %v", err)
	}
	now := h.clock.Now()
	return n.Build(h.ids.New(now), event.NewSecret(), now)
}

// createSub stores a new subscription and returns it.
func (h *harness) createSub(target string, types ...string) event.Subscription {
	h.t.Helper()
	s := h.newSub(target, types...)
	if err := h.subs().CreateSubscription(h.ctx, s); err != nil {
		h.t.Fatalf("CreateSubscription(%s): %v", s.ID, err)
	}
	return s
}

func (h *harness) getSub(id string) event.Subscription {
	h.t.Helper()
	s, err := h.subs().GetSubscription(h.ctx, id)
	if err != nil {
		h.t.Fatalf("GetSubscription(%s): %v", id, err)
	}
	return s
}

func (h *harness) listSubs() []event.Subscription {
	h.t.Helper()
	all, err := h.subs().ListSubscriptions(h.ctx)
	if err != nil {
		h.t.Fatalf("ListSubscriptions: %v", err)
	}
	return all
}

// sameSub fails listing every field in which got differs from want,
// the secret included. Times must be equal instants in UTC.
func sameSub(t *testing.T, what string, got, want event.Subscription) {
	t.Helper()
	var d differences
	d.check("ID", got.ID == want.ID, got.ID, want.ID)
	d.check("TargetURL", got.TargetURL == want.TargetURL, got.TargetURL, want.TargetURL)
	d.check("EventTypes", slices.Equal(got.EventTypes, want.EventTypes), got.EventTypes, want.EventTypes)
	d.check("EventTypes", got.EventTypes != nil, "nil", "a non-nil slice (it marshals as [], not null)")
	d.check("Secret", got.Secret == want.Secret, "(hidden)", "(the secret it was created with)")
	d.check("Status", got.Status == want.Status, got.Status, want.Status)
	d.check("DisabledReason", got.DisabledReason == want.DisabledReason, got.DisabledReason, want.DisabledReason)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.time("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	d.report(t, what)
}

func subIDs(subs []event.Subscription) []string {
	out := make([]string, len(subs))
	for i, s := range subs {
		out[i] = s.ID
	}
	return out
}

func testSubCreateGet(t *testing.T, h *harness) {
	cases := []event.Subscription{
		h.newSub("https://hooks.example.com/a"),
		h.newSub("https://hooks.example.com/b?x=1&y=%20", "order.created", "order.*", "commande.créée", "*"),
		h.newSub("http://[2001:db8::1]:8080/p", "a"),
	}
	for _, want := range cases {
		if err := h.subs().CreateSubscription(h.ctx, want); err != nil {
			t.Fatalf("CreateSubscription: %v", err)
		}
		sameSub(t, "GetSubscription", h.getSub(want.ID), want)
		h.clock.Advance(time.Second)
	}
	// Ids are matched in canonical form, as for events.
	sameSub(t, "GetSubscription(upper case id)", h.getSub(strings.ToUpper(cases[0].ID)), cases[0])
}

func testSubGetNotFound(t *testing.T, h *harness) {
	h.createSub("https://hooks.example.com/a")
	for name, id := range unknownIDs(h) {
		t.Run(name, func(t *testing.T) {
			_, err := h.subs().GetSubscription(h.ctx, id)
			wantCode(t, err, event.CodeNotFound)
		})
	}
}

func testSubList(t *testing.T, h *harness) {
	if got := h.listSubs(); len(got) != 0 {
		t.Fatalf("fresh store: got %d subscriptions, want 0", len(got))
	}
	var want []event.Subscription
	for i := range 7 {
		want = append(want, h.createSub(fmt.Sprintf("https://hooks.example.com/%d", i), fmt.Sprintf("t%d", i)))
		h.clock.Advance(time.Duration(i+1) * time.Millisecond)
	}
	got := h.listSubs()
	sameIDs(t, "ListSubscriptions", subIDs(got), subIDs(want))
	for i := range got {
		sameSub(t, "listed", got[i], want[i])
	}
	// Order is by creation time, not by id: a subscription whose id sorts
	// first but which was created later is listed later.
	early := h.newSub("https://hooks.example.com/early")
	early.CreatedAt = want[0].CreatedAt.Add(-time.Hour)
	early.UpdatedAt = early.CreatedAt
	if err := h.subs().CreateSubscription(h.ctx, early); err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
	sameIDs(t, "ListSubscriptions by created_at", subIDs(h.listSubs()), append([]string{early.ID}, subIDs(want)...))
}

func testSubDelete(t *testing.T, h *harness) {
	a := h.createSub("https://hooks.example.com/a")
	b := h.createSub("https://hooks.example.com/b")
	c := h.createSub("https://hooks.example.com/c")
	if err := h.subs().DeleteSubscription(h.ctx, b.ID); err != nil {
		t.Fatalf("DeleteSubscription: %v", err)
	}
	_, err := h.subs().GetSubscription(h.ctx, b.ID)
	wantCode(t, err, event.CodeNotFound)
	sameIDs(t, "ListSubscriptions after delete", subIDs(h.listSubs()), []string{a.ID, c.ID})
	// A repeated DELETE is a 404.
	wantCode(t, h.subs().DeleteSubscription(h.ctx, b.ID), event.CodeNotFound)
	for name, id := range unknownIDs(h) {
		t.Run(name, func(t *testing.T) {
			wantCode(t, h.subs().DeleteSubscription(h.ctx, id), event.CodeNotFound)
		})
	}
	sameSub(t, "neighbour after delete", h.getSub(a.ID), a)
	_, _, err = h.subs().DisableSubscription(h.ctx, b.ID, "gone")
	wantCode(t, err, event.CodeNotFound)
}

func testSubDisable(t *testing.T, h *harness) {
	s := h.createSub("https://hooks.example.com/a", "order.*")
	other := h.createSub("https://hooks.example.com/b")
	disabledAt := h.clock.Advance(90 * time.Second)
	got, disabled, err := h.subs().DisableSubscription(h.ctx, s.ID, "10 consecutive failed attempts")
	if err != nil || !disabled {
		t.Fatalf("DisableSubscription: got disabled=%v, %v, want true", disabled, err)
	}
	want := s
	want.Status = event.SubscriptionDisabled
	want.DisabledReason = "10 consecutive failed attempts"
	want.UpdatedAt = event.Timestamp(disabledAt)
	sameSub(t, "DisableSubscription result", got, want)
	sameSub(t, "GetSubscription after disable", h.getSub(s.ID), want)
	if got.Active() {
		t.Fatal("disabled subscription: Active() = true")
	}

	// Disabling again keeps the first reason and changes nothing.
	h.clock.Advance(time.Hour)
	again, disabled, err := h.subs().DisableSubscription(h.ctx, s.ID, "another reason")
	if err != nil || disabled {
		t.Fatalf("second DisableSubscription: got disabled=%v, %v, want false", disabled, err)
	}
	sameSub(t, "second DisableSubscription", again, want)
	sameSub(t, "GetSubscription after second disable", h.getSub(s.ID), want)

	listed := h.listSubs()
	sameIDs(t, "ListSubscriptions lists disabled ones", subIDs(listed), []string{s.ID, other.ID})
	sameSub(t, "listed disabled", listed[0], want)
	sameSub(t, "listed active", listed[1], other)

	for name, id := range unknownIDs(h) {
		t.Run(name, func(t *testing.T) {
			_, _, err := h.subs().DisableSubscription(h.ctx, id, "x")
			wantCode(t, err, event.CodeNotFound)
		})
	}
}

// testSubDisableRace: of several DisableSubscription calls racing on one
// subscription, exactly one disables it, and its reason is the one kept.
func testSubDisableRace(t *testing.T, h *harness) {
	const racers = 8
	for round := range 3 {
		s := h.createSub("https://hooks.example.com/a")
		results := race(racers, func(i int) (event.Subscription, bool, error) {
			return h.subs().DisableSubscription(h.ctx, s.ID, fmt.Sprintf("reason %d", i))
		})
		want := fmt.Sprintf("reason %d", oneWinner(t, fmt.Sprintf("round %d: racing DisableSubscription", round), results))
		if got := h.getSub(s.ID); got.Active() || got.DisabledReason != want {
			t.Fatalf("round %d: got %s with reason %q, want disabled with the winner's %q", round, got.Status, got.DisabledReason, want)
		}
		for i, r := range results {
			if r.v.DisabledReason != want {
				t.Fatalf("round %d: racer %d got reason %q, want %q", round, i, r.v.DisabledReason, want)
			}
		}
	}
}

// testSubSecret: the store keeps the secret and gives it back (the
// deliverer signs with it), while the values it returns never show it in
// JSON or when formatted.
func testSubSecret(t *testing.T, h *harness) {
	s := h.createSub("https://hooks.example.com/path/with/capability?token=abc")
	if !strings.HasPrefix(s.Secret, event.SecretPrefix) {
		t.Fatalf("suite bug: secret %q", s.Secret[:6])
	}
	got := h.getSub(s.ID)
	listed := h.listSubs()
	if got.Secret != s.Secret || len(listed) != 1 || listed[0].Secret != s.Secret {
		t.Fatal("the store did not give back the secret it was given")
	}
	for _, v := range []event.Subscription{got, listed[0]} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		for _, shown := range []string{string(b), fmt.Sprint(v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v)} {
			if strings.Contains(shown, s.Secret) || strings.Contains(shown, s.Secret[len(event.SecretPrefix):]) {
				t.Fatal("a stored subscription shows its secret when marshalled or formatted")
			}
		}
	}
}

func testSubDuplicate(t *testing.T, h *harness) {
	s := h.createSub("https://hooks.example.com/a")
	dup := s
	dup.TargetURL = "https://evil.example.com/"
	dup.Secret = event.NewSecret()
	if err := h.subs().CreateSubscription(h.ctx, dup); err == nil {
		t.Fatal("CreateSubscription with an existing id: got nil error, want one")
	}
	sameSub(t, "original after duplicate create", h.getSub(s.ID), s)
	if n := len(h.listSubs()); n != 1 {
		t.Fatalf("after duplicate create: got %d subscriptions, want 1", n)
	}
}

// testSubInvalid: a store refuses a subscription whose id it cannot key
// or which is not what NewSubscription.Build makes, and stores nothing.
func testSubInvalid(t *testing.T, h *harness) {
	cases := map[string]func(*event.Subscription){
		"malformed id":    func(s *event.Subscription) { s.ID = "nope" },
		"v4 id":           func(s *event.Subscription) { s.ID = "9b2a6a8e-0d9f-4b4e-9c57-1d6f1c1a0b3c" },
		"no secret":       func(s *event.Subscription) { s.Secret = "" },
		"bad target":      func(s *event.Subscription) { s.TargetURL = "ftp://example.com/" },
		"bad pattern":     func(s *event.Subscription) { s.EventTypes = []string{"a*b"} },
		"unknown status":  func(s *event.Subscription) { s.Status = "paused" },
		"no created time": func(s *event.Subscription) { s.CreatedAt = time.Time{} },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			s := h.newSub("https://hooks.example.com/a")
			edit(&s)
			err := h.subs().CreateSubscription(h.ctx, s)
			if err == nil {
				t.Fatal("got nil error, want one")
			}
			if c := event.ErrorCode(err); c != event.CodeInvalid {
				t.Fatalf("error code: got %q (%v), want %q", c, err, event.CodeInvalid)
			}
		})
	}
	if n := len(h.listSubs()); n != 0 {
		t.Fatalf("after refused creates: got %d subscriptions, want 0", n)
	}
}

// testSubCap creates more than MaxSubscriptions from 16 goroutines at once:
// exactly MaxSubscriptions are stored, the rest are CodeInvalid naming
// "subscriptions", and deleting one makes room for one more.
func testSubCap(t *testing.T, h *harness) {
	const extra, workers = 12, 16
	total := event.MaxSubscriptions + extra
	subs := make([]event.Subscription, total)
	for i := range subs {
		subs[i] = h.newSub(fmt.Sprintf("https://hooks.example.com/%d", i))
	}
	errs := make([]error, total)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < total; i += workers {
				errs[i] = h.subs().CreateSubscription(h.ctx, subs[i])
			}
		})
	}
	wg.Wait()
	stored, refused := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			stored++
		case event.ErrorCode(err) == event.CodeInvalid:
			var e *event.Error
			errorsAs(err, &e)
			if e.Field != "subscriptions" {
				t.Fatalf("create %d over the cap: field %q, want \"subscriptions\"", i, e.Field)
			}
			refused++
		default:
			t.Fatalf("create %d: %v", i, err)
		}
	}
	if stored != event.MaxSubscriptions || refused != extra {
		t.Fatalf("stored %d and refused %d, want %d and %d", stored, refused, event.MaxSubscriptions, extra)
	}
	listed := h.listSubs()
	if len(listed) != event.MaxSubscriptions {
		t.Fatalf("ListSubscriptions at the cap: got %d, want %d", len(listed), event.MaxSubscriptions)
	}
	more := h.newSub("https://hooks.example.com/more")
	wantCode(t, h.subs().CreateSubscription(h.ctx, more), event.CodeInvalid)
	if err := h.subs().DeleteSubscription(h.ctx, listed[500].ID); err != nil {
		t.Fatalf("DeleteSubscription: %v", err)
	}
	if err := h.subs().CreateSubscription(h.ctx, more); err != nil {
		t.Fatalf("CreateSubscription after a delete: %v", err)
	}
	wantCode(t, h.subs().CreateSubscription(h.ctx, h.newSub("https://hooks.example.com/one-too-many")), event.CodeInvalid)
}

package boltstore_test

import (
	"fmt"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/triggershq/triggers/pkg/boltstore"
	"github.com/triggershq/triggers/pkg/event"
)

func (b *bundle) createSub(t *testing.T, target string) event.Subscription {
	t.Helper()
	now := b.clock.Now()
	s := event.NewSubscription{TargetURL: target}.Build(b.ids.New(now), event.NewSecret(), now)
	if err := b.s.CreateSubscription(t.Context(), s); err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
	return s
}

func (b *bundle) claim(t *testing.T, subID string) event.Delivery {
	t.Helper()
	now := b.clock.Now()
	d, created, err := b.s.ClaimDelivery(t.Context(), event.NewDelivery(b.ids.New(now), subID, now))
	if err != nil || !created {
		t.Fatalf("ClaimDelivery: created=%v, %v", created, err)
	}
	return d
}

// retry records a failed attempt of d, due again after wait.
func (b *bundle) retry(t *testing.T, d event.Delivery, wait time.Duration) event.Delivery {
	t.Helper()
	now := event.Timestamp(b.clock.Now())
	a := event.Attempt{DeliveryID: d.ID, SubscriptionID: d.SubscriptionID, EventID: d.EventID,
		N: d.Attempts + 1, At: now, StatusCode: 503, Error: "HTTP 503", Outcome: event.OutcomeRetry}
	d.Attempts, d.UpdatedAt, d.NextAttemptAt = a.N, now, now.Add(wait)
	if err := b.s.RecordAttempt(t.Context(), d, a); err != nil {
		t.Fatalf("RecordAttempt: %v", err)
	}
	return d
}

func (b *bundle) dueIDs(t *testing.T, at time.Time) []string {
	t.Helper()
	due, err := b.s.DueDeliveries(t.Context(), at, 0)
	if err != nil {
		t.Fatalf("DueDeliveries: %v", err)
	}
	ids := make([]string, len(due))
	for i, d := range due {
		ids[i] = d.ID
	}
	return ids
}

func sameStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s:\ngot  %v\nwant %v", what, got, want)
	}
}

// TestScheduleSurvivesReopen: deliveries pending when the process stops
// (a clean close here; a kill -9 loses nothing more, since every write is
// fsynced before it returns) are due at the same times after reopening.
func TestScheduleSurvivesReopen(t *testing.T) {
	t.Parallel()
	b := setup(t, boltstore.Options{})
	sub := b.createSub(t, "https://hooks.example.com/a")
	first := b.claim(t, sub.ID)
	b.clock.Advance(time.Second)
	second := b.claim(t, sub.ID)
	first = b.retry(t, first, time.Minute)
	start := b.clock.Now()

	b.reopen(t)
	b.check(t)
	sameStrings(t, "due at once after reopen", b.dueIDs(t, start), []string{second.ID})
	sameStrings(t, "due a minute later", b.dueIDs(t, first.NextAttemptAt), []string{second.ID, first.ID})
	got, err := b.s.GetSubscription(t.Context(), sub.ID)
	if err != nil || got.Secret != sub.Secret {
		t.Fatalf("subscription after reopen: secret kept=%v, %v", got.Secret == sub.Secret, err)
	}
	attempts, err := b.s.ListAttempts(t.Context(), sub.ID, 0)
	if err != nil || len(attempts) != 1 || attempts[0].DeliveryID != first.ID {
		t.Fatalf("attempts after reopen: got %+v, %v", attempts, err)
	}
}

// TestOpensFilesWithoutSubscriptionBuckets: a file written before the
// subscription buckets existed opens, keeps its events and gains them.
func TestOpensFilesWithoutSubscriptionBuckets(t *testing.T) {
	t.Parallel()
	b := setup(t, boltstore.Options{})
	e := b.put(t, "t", 0)
	if err := b.s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(b.path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range []string{"subscriptions", "deliveries", "attempts", "schedule", "delivery_expiry"} {
			if err := tx.DeleteBucket([]byte(name)); err != nil {
				return fmt.Errorf("delete %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b.open(t)
	b.check(t)
	if _, err := b.s.Get(t.Context(), e.ID); err != nil {
		t.Fatalf("event after upgrade: %v", err)
	}
	sub := b.createSub(t, "https://hooks.example.com/a")
	b.claim(t, sub.ID)
	b.check(t)
}

// TestSweepRemovesDeliveries: once retention has passed, the sweeper
// removes deliveries (due or not), their schedule entries and attempts,
// leaving a consistent file, and not counting them as events.
func TestSweepRemovesDeliveries(t *testing.T) {
	t.Parallel()
	const retention = 48 * time.Hour
	b := setup(t, boltstore.Options{DeliveryRetention: retention, SweepChunk: 3})
	sub := b.createSub(t, "https://hooks.example.com/a")
	var ds []event.Delivery
	for range 7 {
		d := b.claim(t, sub.ID)
		ds = append(ds, b.retry(t, d, time.Hour))
		b.clock.Advance(time.Second)
	}
	b.check(t)
	b.clock.Set(ds[3].CreatedAt.Add(retention))
	n, err := b.s.SweepExpired(t.Context())
	if err != nil || n != 0 {
		t.Fatalf("SweepExpired: got %d, %v; want 0 events, nil", n, err)
	}
	b.check(t)
	// The first four deliveries and their attempts are gone: a claim makes
	// them anew; the rest are still there.
	for i, d := range ds {
		_, created, err := b.s.ClaimDelivery(t.Context(), event.NewDelivery(d.EventID, sub.ID, b.clock.Now()))
		if err != nil || created != (i <= 3) {
			t.Fatalf("claim of delivery %d after the sweep: created=%v, %v; want created=%v", i, created, err, i <= 3)
		}
	}
	attempts, err := b.s.ListAttempts(t.Context(), sub.ID, 0)
	if err != nil || len(attempts) != 3 {
		t.Fatalf("attempts after the sweep: got %d, %v; want 3", len(attempts), err)
	}
	b.check(t)
}

// TestCorruptSubscriptionIsInternal: a record that does not decode is an
// internal error naming it, never a panic or a silently skipped entry.
func TestCorruptSubscriptionIsInternal(t *testing.T) {
	t.Parallel()
	b := setup(t, boltstore.Options{})
	sub := b.createSub(t, "https://hooks.example.com/a")
	if err := b.s.Close(); err != nil {
		t.Fatal(err)
	}
	id, _ := parseUUID(sub.ID)
	db, err := bbolt.Open(b.path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.Bucket([]byte("subscriptions")).Put(id, []byte(`{"v":9}`)) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b.open(t)
	_, err = b.s.GetSubscription(t.Context(), sub.ID)
	wantInternal(t, "GetSubscription", err)
	_, err = b.s.ListSubscriptions(t.Context())
	wantInternal(t, "ListSubscriptions", err)
	wantInternal(t, "Check", b.s.Check(t.Context()))
}

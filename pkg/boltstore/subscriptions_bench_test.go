package boltstore_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/boltstore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/storetest"
)

// BenchmarkDueDeliveries reads a page of 100 due deliveries from a
// schedule of 1,000 and of 100,000 pending ones: one seek plus the page,
// whatever the backlog.
func BenchmarkDueDeliveries(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("scheduled=%d", n), func(b *testing.B) {
			clock := storetest.NewClock(storetest.Start)
			s, err := boltstore.Open(filepath.Join(b.TempDir(), "triggers.db"), boltstore.Options{Now: clock.Now, BatchDelay: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := b.Context()
			var ids event.IDs
			now := clock.Now()
			sub := event.NewSubscription{TargetURL: "https://a.example/"}.Build(ids.New(now), event.NewSecret(), now)
			if err := s.CreateSubscription(ctx, sub); err != nil {
				b.Fatal(err)
			}
			// Claims from 64 writers share commits, so loading is quick.
			var next atomic.Int64
			errs := make(chan error, 64)
			for range 64 {
				go func() {
					for i := next.Add(1); i <= int64(n); i = next.Add(1) {
						d := event.NewDelivery(ids.New(now), sub.ID, now.Add(time.Duration(i)*time.Millisecond))
						if _, _, err := s.ClaimDelivery(ctx, d); err != nil {
							errs <- err
							return
						}
					}
					errs <- nil
				}()
			}
			for range 64 {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
			at := now.Add(time.Duration(n) * time.Millisecond)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				due, err := s.DueDeliveries(ctx, at, 100)
				if err != nil || len(due) != 100 {
					b.Fatalf("DueDeliveries: %d, %v", len(due), err)
				}
			}
		})
	}
}

// BenchmarkRecordAttempt is the durable write of one webhook attempt (the
// delivery's new state, its schedule entry and the attempt, one
// transaction), by 1 and by 64 concurrent deliverers.
func BenchmarkRecordAttempt(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			clock := storetest.NewClock(storetest.Start)
			s, err := boltstore.Open(filepath.Join(b.TempDir(), "triggers.db"), boltstore.Options{Now: clock.Now})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := b.Context()
			var ids event.IDs
			now := clock.Now()
			sub := ids.New(now)
			b.ReportAllocs()
			b.ResetTimer()
			var next atomic.Int64
			errs := make(chan error, writers)
			for range writers {
				go func() {
					for next.Add(1) <= int64(b.N) {
						d := event.NewDelivery(ids.New(now), sub, now)
						a := event.Attempt{DeliveryID: d.ID, SubscriptionID: sub, EventID: d.EventID, N: 1, At: now,
							StatusCode: 204, Latency: time.Millisecond, Outcome: event.OutcomeSuccess}
						d.Attempts, d.State = 1, event.DeliverySucceeded
						if err := s.RecordAttempt(ctx, d, a); err != nil {
							errs <- err
							return
						}
					}
					errs <- nil
				}()
			}
			for range writers {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			st := s.Stats()
			b.ReportMetric(float64(st.Writes)/float64(max(st.Commits, 1)), "writes/commit")
		})
	}
}

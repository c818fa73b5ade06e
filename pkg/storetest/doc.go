// Package storetest is the conformance suite every event.Store passes: the
// executable form of the comments on event.Store and event.ChangeFeed.
//
// A store package runs it from an ordinary test:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, cfg storetest.Config) event.Store {
//			s, err := mystore.Open(..., mystore.Options{Now: cfg.Now})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { _ = s.Close() })
//			return s
//		})
//	}
//
// The factory returns a fresh, empty store on every call, reading its clock
// from cfg.Now, and releases it with t.Cleanup (ignoring the error of a
// second Close: one subtest closes its store itself). Subtests run in
// parallel, each with its own store and its own Clock.
//
// Optional parts run when the store has them:
//   - event.ChangeFeed: the change feed tests. A store with a feed must also
//     implement Sweeper, because the suite needs a way to make retention
//     remove an event and produce its "expired" change.
//   - Sweeper: tests that sweeping removes exactly the expired events and
//     frees their idempotency keys.
//   - event.SubscriptionStore and event.DeliveryLog: the REST hook
//     subscriptions and the delivery log (claim once under concurrency,
//     attempts newest first, expiry after Config.DeliveryRetention, which
//     the factory must pass to the store).
//   - event.DeliverySchedule: the durable retry schedule, kept in step by
//     ClaimDelivery and RecordAttempt. A store with a schedule must also
//     implement both contracts above.
//
// The suite never sleeps and never asserts on timing: expiry is driven by
// the Clock, and costs are for benchmarks to show.
package storetest

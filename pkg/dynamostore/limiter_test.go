package dynamostore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/storetest"
)

var _ auth.AttemptLimiter = (*dynamostore.Limiter)(nil)

// twoInstances returns two limiters with their own clients on one table, as
// two Lambda instances would have, sharing the test clock.
func twoInstances(t *testing.T, c *storetest.Clock, max int, window time.Duration) (a, b *dynamostore.Limiter) {
	t.Helper()
	_, table := newTable(t)
	mk := func() *dynamostore.Limiter {
		client := dynamostore.NewClient(motoConfig(t), dynamostore.ClientOptions{})
		l, err := dynamostore.NewLimiter(client, dynamostore.LimiterOptions{Table: table, MaxFailures: max, Window: window, Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	return mk(), mk()
}

func wantWait(t *testing.T, l *dynamostore.Limiter, client string, want time.Duration) {
	t.Helper()
	got, err := l.Allow(context.Background(), client)
	if err != nil {
		t.Fatalf("Allow(%s): %v", client, err)
	}
	if got != want {
		t.Fatalf("Allow(%s): got wait %v, want %v", client, got, want)
	}
}

func fail(t *testing.T, l *dynamostore.Limiter, client string) {
	t.Helper()
	if err := l.Failed(context.Background(), client); err != nil {
		t.Fatalf("Failed(%s): %v", client, err)
	}
}

// TestLimiterAcrossInstances: failures recorded by either instance count
// against one limit, which both enforce — the brute-force limit holds across
// Lambda instances.
func TestLimiterAcrossInstances(t *testing.T) {
	t.Parallel()
	c := storetest.NewClock(start)
	a, b := twoInstances(t, c, 3, time.Minute)
	const ip = "203.0.113.7"

	wantWait(t, a, ip, 0)
	fail(t, a, ip)
	c.Advance(10 * time.Second)
	fail(t, b, ip)
	wantWait(t, a, ip, 0) // two failures: still allowed
	wantWait(t, b, ip, 0)
	c.Advance(5 * time.Second)
	fail(t, a, ip) // the third, 15 s into the window
	wantWait(t, b, ip, 45*time.Second)
	wantWait(t, a, ip, 45*time.Second)
	wantWait(t, b, "198.51.100.1", 0) // others are not affected

	c.Advance(45*time.Second - time.Microsecond)
	wantWait(t, a, ip, time.Microsecond)
	c.Advance(time.Microsecond) // the window has closed; its item is still there
	wantWait(t, a, ip, 0)
	wantWait(t, b, ip, 0)

	// A new window opens at the next failure and counts from one.
	fail(t, b, ip)
	fail(t, a, ip)
	wantWait(t, a, ip, 0)
	fail(t, b, ip)
	wantWait(t, a, ip, time.Minute)
}

// TestLimiterConcurrentFailures: failures recorded at once from both
// instances are all counted (UpdateItem ADD is atomic), including when they
// race to replace a closed window.
func TestLimiterConcurrentFailures(t *testing.T) {
	t.Parallel()
	c := storetest.NewClock(start)
	const max = 20
	a, b := twoInstances(t, c, max, time.Minute)
	const ip = "2001:db8::1"
	failAll := func(n int) {
		var wg sync.WaitGroup
		for i := range n {
			l := a
			if i%2 == 1 {
				l = b
			}
			wg.Go(func() {
				if err := l.Failed(context.Background(), ip); err != nil {
					t.Errorf("Failed: %v", err)
				}
			})
		}
		wg.Wait()
	}
	for range 2 { // a fresh window, then one replacing the closed window
		failAll(max - 1)
		wantWait(t, a, ip, 0)
		failAll(1)
		wantWait(t, b, ip, time.Minute)
		c.Advance(time.Minute)
		wantWait(t, a, ip, 0)
	}
}

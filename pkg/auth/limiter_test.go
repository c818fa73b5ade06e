package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/auth"
)

func TestMemoryLimiterWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l := auth.NewMemoryLimiter(auth.LimiterConfig{MaxFailures: 3, Window: time.Minute, Now: c.Now})
	allow := func(client string, want time.Duration) {
		t.Helper()
		got, err := l.Allow(ctx, client)
		if err != nil || got != want {
			t.Fatalf("Allow(%s): got %v, %v, want %v", client, got, err, want)
		}
	}
	fail := func(client string) {
		t.Helper()
		if err := l.Failed(ctx, client); err != nil {
			t.Fatal(err)
		}
	}

	allow("a", 0)
	fail("a") // window opens at t0
	c.Advance(10 * time.Second)
	fail("a")
	allow("a", 0)
	fail("a") // third failure within the window
	allow("a", 50*time.Second)
	allow("b", 0) // other clients are unaffected
	c.Advance(49 * time.Second)
	allow("a", time.Second)
	c.Advance(time.Second) // the window closes
	allow("a", 0)
	fail("a") // a fresh window: one failure only
	allow("a", 0)
}

func TestMemoryLimiterDefaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l := auth.NewMemoryLimiter(auth.LimiterConfig{Now: c.Now})
	for range 9 {
		_ = l.Failed(ctx, "ip")
	}
	if wait, _ := l.Allow(ctx, "ip"); wait != 0 {
		t.Fatalf("after 9 failures: got wait %v, want 0", wait)
	}
	_ = l.Failed(ctx, "ip")
	if wait, _ := l.Allow(ctx, "ip"); wait != 5*time.Minute {
		t.Fatalf("after 10 failures: got wait %v, want 5m", wait)
	}
}

func TestMemoryLimiterBoundedMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l := auth.NewMemoryLimiter(auth.LimiterConfig{MaxFailures: 1, Window: time.Minute, Now: c.Now, MaxClients: 3})
	for i := range 5 {
		_ = l.Failed(ctx, fmt.Sprint("client-", i))
		c.Advance(time.Second)
	}
	if n := l.Len(); n != 3 {
		t.Fatalf("got %d clients tracked, want 3", n)
	}
	if wait, _ := l.Allow(ctx, "client-0"); wait != 0 {
		t.Errorf("oldest client still blocked (wait %v), want it forgotten", wait)
	}
	if wait, _ := l.Allow(ctx, "client-4"); wait == 0 {
		t.Errorf("newest client not blocked")
	}
	// Closed windows are dropped as new failures arrive.
	c.Advance(2 * time.Minute)
	_ = l.Failed(ctx, "late")
	if n := l.Len(); n != 1 {
		t.Fatalf("got %d clients tracked after their windows closed, want 1", n)
	}
}

func TestMemoryLimiterConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := auth.NewMemoryLimiter(auth.LimiterConfig{MaxFailures: 100, Window: time.Hour, MaxClients: 10})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				client := fmt.Sprint(g%2, "-", i%20)
				_ = l.Failed(ctx, client)
				_, _ = l.Allow(ctx, client)
			}
		})
	}
	wg.Wait()
	if n := l.Len(); n > 10 {
		t.Fatalf("got %d clients, want at most 10", n)
	}
	// One client, many goroutines: every failure counts.
	one := auth.NewMemoryLimiter(auth.LimiterConfig{MaxFailures: 400, Window: time.Hour})
	for range 4 {
		wg.Go(func() {
			for range 100 {
				_ = one.Failed(ctx, "x")
			}
		})
	}
	wg.Wait()
	if wait, _ := one.Allow(ctx, "x"); wait == 0 {
		t.Fatalf("400 concurrent failures did not block the client")
	}
}

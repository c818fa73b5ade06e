package storetest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/storetest"
)

func TestClock(t *testing.T) {
	t.Parallel()
	c := storetest.NewClock(storetest.Start)
	if got := c.Now(); !got.Equal(storetest.Start) {
		t.Fatalf("Now: got %v, want %v", got, storetest.Start)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got, want := c.Now(), storetest.Start.Add(800*time.Second); !got.Equal(want) {
		t.Fatalf("after concurrent Advance: got %v, want %v", got, want)
	}
	earlier := storetest.Start.Add(-time.Hour)
	c.Set(earlier)
	if got := c.Now(); !got.Equal(earlier) {
		t.Fatalf("after Set: got %v, want %v", got, earlier)
	}
}

package stream_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingReceiver answers 200 and signals when it has answered want
// requests.
type countingReceiver struct {
	*receiver
	n    atomic.Int64
	want atomic.Int64
	done chan struct{}
	once sync.Once
}

func newCountingReceiver(b testing.TB) *countingReceiver {
	c := &countingReceiver{done: make(chan struct{})}
	c.receiver = newReceiver(b, func(int, *http.Request, http.ResponseWriter) int {
		if c.n.Add(1) == c.want.Load() {
			c.once.Do(func() { close(c.done) })
		}
		return http.StatusOK
	})
	return c
}

// BenchmarkFanOut measures the single binary's delivery loop in process
// (bbolt store, change-feed worker, scheduler with 8 slots and at most 2
// per subscription, real HTTP to a loopback receiver): events are stored
// as fast as one writer can, and the clock runs until every delivery was
// answered. deliveries/s is the figure; with one subscription it is bound
// by the per-subscription cap of 2 in flight, by design.
func BenchmarkFanOut(b *testing.B) {
	for _, subs := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("subscriptions=%d", subs), func(b *testing.B) {
			w := newWorld(b, worldOptions{policy: tinyPolicy(3)})
			rc := newCountingReceiver(b)
			for range subs {
				rc.setSecret(w.subscribe(rc.URL()).Secret)
			}
			rc.want.Store(int64(b.N * subs))
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				w.publish("bench.created", `{"k":"v"}`)
			}
			<-rc.done
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N*subs)/elapsed.Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkEndToEndLatency measures, one event at a time, the time from
// storing an event (what POST /events does after its checks) to the
// receiver's 200 for its one subscription, and reports p50 and p99.
func BenchmarkEndToEndLatency(b *testing.B) {
	w := newWorld(b, worldOptions{policy: tinyPolicy(3)})
	rc := newCountingReceiver(b)
	rc.setSecret(w.subscribe(rc.URL()).Secret)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		w.publish("bench.created", `{}`)
		for rc.n.Load() < int64(i+1) {
			time.Sleep(20 * time.Microsecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
}

package boltstore_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/boltstore"
	"github.com/triggershq/triggers/pkg/event"
)

// benchPayload is a typical small webhook body.
var benchPayload = json.RawMessage(`{"order_id":"ord_8f3a2b","amount":"129.90","currency":"EUR","customer":{"id":"cus_41","email":"a@example.com"},"items":3}`)

var benchTypes = []string{"order.created", "order.paid", "order.shipped", "customer.created"}

func benchEvents(ids *event.IDs, n int) []event.Event {
	out := make([]event.Event, n)
	now := time.Now()
	for i := range out {
		ne := event.NewEvent{Type: benchTypes[i%len(benchTypes)], Source: "shop", Payload: benchPayload}
		out[i] = ne.Build(ids.New(now), now, 0)
	}
	return out
}

func openBench(b *testing.B, path string, opts boltstore.Options) *boltstore.Store {
	b.Helper()
	s, err := boltstore.Open(path, opts)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkPut measures durable Put throughput (every Put fsynced, shared
// by the group commit) at several numbers of concurrent writers, and the
// effect of BatchDelay at 64 writers.
func BenchmarkPut(b *testing.B) {
	// A delay of -1 disables waiting (see Options.BatchDelay).
	cases := []struct {
		writers int
		delay   time.Duration
	}{
		{1, 0}, {2, 0}, {16, 0}, {64, 0}, {256, 0},
		{64, -1}, {64, 50 * time.Microsecond}, {64, time.Millisecond}, {64, 5 * time.Millisecond},
	}
	for _, tc := range cases {
		delay := tc.delay.String()
		if tc.delay == 0 {
			delay = "default"
		}
		b.Run(fmt.Sprintf("writers=%d/delay=%s", tc.writers, delay), func(b *testing.B) {
			s := openBench(b, filepath.Join(b.TempDir(), "put.db"), boltstore.Options{BatchDelay: tc.delay})
			defer s.Close()
			var ids event.IDs
			events := benchEvents(&ids, b.N)
			var next atomic.Int64
			var commits atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for range tc.writers {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						if _, _, err := s.Put(b.Context(), events[i]); err != nil {
							b.Error(err)
							return
						}
						commits.Add(1)
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(commits.Load())/b.Elapsed().Seconds(), "puts/s")
			st := s.Stats()
			b.ReportMetric(float64(st.Writes)/float64(max(st.Commits, 1)), "puts/commit")
		})
	}
}

// bigStore is the million-event file, built once per benchmark run.
var bigStore struct {
	once sync.Once
	dir  string
	s    *boltstore.Store
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bigStore.s != nil {
		_ = bigStore.s.Close()
	}
	if bigStore.dir != "" {
		_ = os.RemoveAll(bigStore.dir)
	}
	os.Exit(code)
}

func loadedStore(b *testing.B, pending int) *boltstore.Store {
	b.Helper()
	if pending != 1_000_000 {
		s := openBench(b, filepath.Join(b.TempDir(), "list.db"), boltstore.Options{})
		b.Cleanup(func() { _ = s.Close() })
		if err := s.PutMany(b.Context(), benchEvents(new(event.IDs), pending)); err != nil {
			b.Fatal(err)
		}
		return s
	}
	bigStore.once.Do(func() {
		bigStore.dir, bigStore.err = os.MkdirTemp("", "boltstore-bench-")
		if bigStore.err != nil {
			return
		}
		start := time.Now()
		bigStore.s, bigStore.err = boltstore.Open(filepath.Join(bigStore.dir, "1m.db"), boltstore.Options{})
		if bigStore.err != nil {
			return
		}
		ids := new(event.IDs)
		for range 10 {
			if bigStore.err = bigStore.s.PutMany(b.Context(), benchEvents(ids, 100_000)); bigStore.err != nil {
				return
			}
		}
		info, _ := os.Stat(filepath.Join(bigStore.dir, "1m.db"))
		fmt.Fprintf(os.Stderr, "loaded 1,000,000 pending events with PutMany in %s (file %d MiB)\n",
			time.Since(start).Round(time.Millisecond), info.Size()>>20)
	})
	if bigStore.err != nil {
		b.Fatal(bigStore.err)
	}
	return bigStore.s
}

// BenchmarkListPending measures a first page of 100 and a page deep in the
// backlog (resumed from a cursor) at 1,000 and 1,000,000 pending events,
// unfiltered and filtered by type. The cost should not depend on the
// backlog.
func BenchmarkListPending(b *testing.B) {
	for _, pending := range []int{1_000, 1_000_000} {
		for _, typ := range []string{"", "order.paid"} {
			name := fmt.Sprintf("pending=%d/type=%q", pending, typ)
			b.Run(name+"/first", func(b *testing.B) {
				s := loadedStore(b, pending)
				benchList(b, s, event.ListQuery{Limit: 100, Type: typ})
			})
			b.Run(name+"/deep", func(b *testing.B) {
				s := loadedStore(b, pending)
				// A cursor half way down the backlog.
				q := event.ListQuery{Limit: 100, Type: typ}
				for range pending / 2 / 100 / max(1, len(benchTypes)*boolInt(typ != "")) {
					p, err := s.ListPending(b.Context(), q)
					if err != nil || p.Next == "" {
						b.Fatalf("walking to the middle: %v", err)
					}
					q.Cursor = p.Next
				}
				benchList(b, s, q)
			})
		}
	}
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

func benchList(b *testing.B, s *boltstore.Store, q event.ListQuery) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p, err := s.ListPending(b.Context(), q)
		if err != nil || len(p.Events) != 100 {
			b.Fatalf("ListPending: %d events, %v", len(p.Events), err)
		}
	}
}

// BenchmarkAck measures durable acks of distinct pending events, one at a
// time and from 64 concurrent clients.
func BenchmarkAck(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := openBench(b, filepath.Join(b.TempDir(), "ack.db"), boltstore.Options{})
			defer s.Close()
			events := benchEvents(new(event.IDs), b.N)
			if err := s.PutMany(b.Context(), events); err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for range writers {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						if _, ok, err := s.Ack(b.Context(), events[i].ID); err != nil || !ok {
							b.Errorf("Ack: %v %v", ok, err)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// BenchmarkGet measures a point read.
func BenchmarkGet(b *testing.B) {
	s := loadedStore(b, 10_000)
	page, err := s.ListPending(b.Context(), event.ListQuery{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	id := page.Events[0].ID
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(b.Context(), id); err != nil {
			b.Fatal(err)
		}
	}
}

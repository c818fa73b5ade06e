package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// request builds one request of a load run; it is called concurrently.
type request func(ctx context.Context, i int64) (*http.Request, error)

// loadResult is what one constant-concurrency run achieved.
type loadResult struct {
	ok, failed int64
	elapsed    time.Duration
}

func (r loadResult) rps() float64 { return float64(r.ok) / r.elapsed.Seconds() }

// generate runs `clients` workers, each issuing requests back to back on a
// keep-alive connection for d, and counts responses with the wanted status.
func generate(ctx context.Context, hc *http.Client, clients int, d time.Duration, want int, build request) (loadResult, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var ok, failed, seq atomic.Int64
	var firstErr error
	var errOnce sync.Once
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, err := build(ctx, seq.Add(1))
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				resp, err := hc.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == want {
					ok.Add(1)
				} else {
					failed.Add(1)
					errOnce.Do(func() { firstErr = fmt.Errorf("%s %s: status %d", req.Method, req.URL.Path, resp.StatusCode) })
				}
			}
		})
	}
	wg.Wait()
	return loadResult{ok: ok.Load(), failed: failed.Load(), elapsed: time.Since(start)}, firstErr
}

// latencies issues n sequential requests (after a warm-up) and returns
// their sorted durations.
func latencies(ctx context.Context, hc *http.Client, n int, build func(ctx context.Context) (*http.Request, error)) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := -n / 10; i < n; i++ {
		req, err := build(ctx)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: status %d %s", req.URL.Path, resp.StatusCode, bytes.TrimSpace(body))
		}
		if i >= 0 {
			out = append(out, d)
		}
	}
	sortDurations(out)
	return out, nil
}

func sortDurations(d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

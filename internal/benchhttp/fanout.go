package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// receiver is a local webhook target that counts deliveries by webhook-id
// and records when each event first arrived.
type receiver struct {
	url     string
	srv     *http.Server
	mu      sync.Mutex
	seen    map[string]bool      // webhook-id
	arrived map[string]time.Time // event id -> first arrival
	count   atomic.Int64
	dupes   atomic.Int64
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + ln.Addr().String() + "/hook", seen: map[string]bool{}, arrived: map[string]time.Time{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	body, _ := io.ReadAll(req.Body)
	var ev struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &ev)
	r.mu.Lock()
	id := req.Header.Get("webhook-id")
	if r.seen[id] {
		r.dupes.Add(1)
	}
	r.seen[id] = true
	if _, ok := r.arrived[ev.ID]; !ok {
		r.arrived[ev.ID] = now
	}
	r.mu.Unlock()
	r.count.Add(1)
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) stop() { _ = r.srv.Close() }

// fanoutReport measures the single binary's webhook fan-out over HTTP: with
// 1, 10 and 100 subscriptions to a local receiver, how many deliveries per
// second it makes, and, one event at a time, the latency from the start of
// POST /events to the receiver's 200.
func fanoutReport(ctx context.Context, c config, dataDir string, out io.Writer) error {
	fmt.Fprintf(out, "### Webhook fan-out (real binary, local receiver answering 200)\n\n")
	fmt.Fprintln(out, "| subscriptions | events | deliveries | deliveries/s | duplicates |")
	fmt.Fprintln(out, "|---:|---:|---:|---:|---:|")
	var latencyLine string
	for i, subs := range []int{1, 10, 100} {
		events := c.fanoutDeliveries / subs
		rate, n, dupes, lat, err := fanoutRun(ctx, c, fmt.Sprintf("%s-%d", dataDir, subs), subs, events, i == 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "| %d | %d | %d | %.0f | %d |\n", subs, events, n, rate, dupes)
		if lat != nil {
			latencyLine = fmt.Sprintf("POST /events → receiver's 200, one event at a time, 1 subscription (%d events): p50 %s, p99 %s.\n\n",
				len(lat), ms(percentile(lat, 0.5)), ms(percentile(lat, 0.99)))
		}
	}
	fmt.Fprintln(out)
	fmt.Fprint(out, latencyLine)
	return nil
}

func fanoutRun(ctx context.Context, c config, dataDir string, subs, events int, measureLatency bool) (rate float64, delivered, dupes int64, lat []time.Duration, err error) {
	srv, err := startServer(c.binary, dataDir, "--allow-private-webhooks")
	if err != nil {
		return 0, 0, 0, nil, err
	}
	defer srv.stop()
	recv, err := startReceiver()
	if err != nil {
		return 0, 0, 0, nil, err
	}
	defer recv.stop()
	hc := keepAliveClient(16)
	token, err := srv.token(ctx, hc)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	for i := 0; i < subs; i++ {
		body := fmt.Sprintf(`{"target_url":%q}`, fmt.Sprintf("%s?s=%d", recv.url, i))
		if _, err := srv.call(ctx, hc, token, "POST", "/subscriptions", body, http.StatusCreated); err != nil {
			return 0, 0, 0, nil, err
		}
	}
	if measureLatency {
		for i := 0; i < c.latencyEvents; i++ {
			start := time.Now()
			id, err := srv.call(ctx, hc, token, "POST", "/events", `{"type":"bench.latency","source":"bench","payload":{}}`, http.StatusCreated)
			if err != nil {
				return 0, 0, 0, nil, err
			}
			for {
				recv.mu.Lock()
				at, ok := recv.arrived[id]
				recv.mu.Unlock()
				if ok {
					lat = append(lat, at.Sub(start))
					break
				}
				if time.Since(start) > time.Minute {
					return 0, 0, 0, nil, fmt.Errorf("event %s not delivered within a minute", id)
				}
				time.Sleep(200 * time.Microsecond)
			}
		}
		sortDurations(lat)
	}
	base := recv.count.Load()
	want := base + int64(subs*events)
	start := time.Now()
	var wg sync.WaitGroup
	var sendErr atomic.Value
	var next atomic.Int64
	for range 16 {
		wg.Go(func() {
			for next.Add(1) <= int64(events) {
				if _, err := srv.call(ctx, hc, token, "POST", "/events", `{"type":"bench.fanout","source":"bench","payload":{"n":1}}`, http.StatusCreated); err != nil {
					sendErr.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := sendErr.Load().(error); err != nil {
		return 0, 0, 0, nil, err
	}
	deadline := time.Now().Add(10 * time.Minute)
	for recv.count.Load() < want {
		if time.Now().After(deadline) {
			return 0, 0, 0, nil, fmt.Errorf("%d of %d deliveries after 10 minutes", recv.count.Load()-base, want-base)
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	delivered = recv.count.Load() - base
	return float64(delivered) / elapsed.Seconds(), delivered, recv.dupes.Load(), lat, nil
}

// call makes one authenticated JSON request and returns the "id" of the
// answer.
func (s *server) call(ctx context.Context, hc *http.Client, token, method, path, body string, want int) (string, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return "", fmt.Errorf("%s %s: status %d %s", method, path, resp.StatusCode, b)
	}
	var v struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(b, &v)
	return v.ID, nil
}

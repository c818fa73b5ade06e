package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/triggershq/triggers/pkg/boltstore"
	"github.com/triggershq/triggers/pkg/event"
)

// throughputReport alternates GET /health and durable POST /events runs on
// one server and reports the mean of each and their ratio (goal >= 0.5).
func throughputReport(ctx context.Context, c config, dataDir string, out io.Writer) error {
	srv, err := startServer(c.binary, dataDir)
	if err != nil {
		return err
	}
	defer srv.stop()
	hc := keepAliveClient(c.clients)
	token, err := srv.token(ctx, hc)
	if err != nil {
		return err
	}
	health := func(ctx context.Context, _ int64) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, "GET", srv.url+"/health", nil)
	}
	ingest := ingestRequest(srv.url, token)

	fmt.Fprintf(out, "### Durable ingest vs. a no-op route (%d keep-alive clients, %s per run, %d alternating rounds)\n\n", c.clients, c.duration, c.rounds)
	fmt.Fprintln(out, "| round | GET /health req/s | POST /events req/s (fsynced) | ratio |")
	fmt.Fprintln(out, "|---|---|---|---|")
	var sumH, sumE float64
	for r := 1; r <= c.rounds; r++ {
		h, err := generate(ctx, hc, c.clients, c.duration, http.StatusOK, health)
		if err != nil {
			return err
		}
		e, err := generate(ctx, hc, c.clients, c.duration, http.StatusCreated, ingest)
		if err != nil {
			return err
		}
		sumH += h.rps()
		sumE += e.rps()
		fmt.Fprintf(out, "| %d | %.0f | %.0f | %.2f |\n", r, h.rps(), e.rps(), e.rps()/h.rps())
	}
	n := float64(c.rounds)
	fmt.Fprintf(out, "| **mean** | **%.0f** | **%.0f** | **%.2f** (goal ≥ 0.5) |\n\n", sumH/n, sumE/n, sumE/sumH)

	// Group commit makes durable ingest scale with concurrency: each commit
	// costs about the same whatever it carries, so more writers in flight
	// means more events per fsync. Each step gets a fresh server and store,
	// so no step measures the growth left by the ones before it.
	fmt.Fprintf(out, "Durable ingest by number of keep-alive clients (%s each, a fresh store each):\n\n", c.duration)
	fmt.Fprintln(out, "| clients | POST /events req/s |")
	fmt.Fprintln(out, "|---:|---:|")
	for _, clients := range []int{1, 16, 64, 256} {
		rps, err := ingestOnFreshServer(ctx, c, fmt.Sprintf("%s-%d", dataDir, clients), clients)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "| %d | %.0f |\n", clients, rps)
	}
	fmt.Fprintln(out)
	return nil
}

// ingestOnFreshServer measures durable POST /events throughput with the
// given number of clients on a new server and store.
func ingestOnFreshServer(ctx context.Context, c config, dataDir string, clients int) (float64, error) {
	srv, err := startServer(c.binary, dataDir)
	if err != nil {
		return 0, err
	}
	defer srv.stop()
	hc := keepAliveClient(clients)
	token, err := srv.token(ctx, hc)
	if err != nil {
		return 0, err
	}
	e, err := generate(ctx, hc, clients, c.duration, http.StatusCreated, ingestRequest(srv.url, token))
	if err != nil {
		return 0, err
	}
	return e.rps(), nil
}

// ingestRequest builds the POST /events requests of a load run.
func ingestRequest(base, token string) request {
	return func(ctx context.Context, i int64) (*http.Request, error) {
		body := fmt.Sprintf(`{"type":"order.created","source":"bench","payload":{"order_id":"ord_%d","amount":"129.90","currency":"EUR","items":3}}`, i)
		req, err := http.NewRequestWithContext(ctx, "POST", base+"/events", strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		return req, nil
	}
}

// inboxReport measures GET /inbox?limit=100 with a small and a large
// backlog of pending events (goal: p50 and p99 of the large within 1.5x).
func inboxReport(ctx context.Context, c config, smallDir, bigDir string, out io.Writer) error {
	type row struct {
		pending  int
		p50, p99 time.Duration
	}
	var rows []row
	for _, tc := range []struct {
		dir     string
		pending int
	}{{smallDir, 1000}, {bigDir, c.bigBacklog}} {
		loadStart := time.Now()
		if err := preload(ctx, tc.dir, tc.pending); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "benchhttp: %d pending events ready in %s\n", tc.pending, time.Since(loadStart).Round(time.Second))
		lat, err := inboxLatencies(ctx, c, tc.dir, tc.pending)
		if err != nil {
			return err
		}
		rows = append(rows, row{tc.pending, percentile(lat, 0.50), percentile(lat, 0.99)})
	}
	fmt.Fprintf(out, "### GET /inbox?limit=100 latency, flat in backlog (%d sequential calls each, after warm-up)\n\n", c.inboxCalls)
	fmt.Fprintln(out, "| pending events | p50 | p99 |")
	fmt.Fprintln(out, "|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(out, "| %d | %s | %s |\n", r.pending, ms(r.p50), ms(r.p99))
	}
	small, big := rows[0], rows[1]
	fmt.Fprintf(out, "| **ratio large/small** | **%.2f** | **%.2f** (goal ≤ 1.5) |\n\n",
		float64(big.p50)/float64(small.p50), float64(big.p99)/float64(small.p99))
	return nil
}

func inboxLatencies(ctx context.Context, c config, dataDir string, pending int) ([]time.Duration, error) {
	srv, err := startServer(c.binary, dataDir)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	// A preloaded store's change feed has every event still to hand to the
	// stream worker; measure the steady state a running server is in, not
	// the worker catching up on a million changes beside the requests.
	if err := srv.waitStreamCaughtUp(ctx, pending); err != nil {
		return nil, err
	}
	hc := keepAliveClient(1)
	token, err := srv.token(ctx, hc)
	if err != nil {
		return nil, err
	}
	return latencies(ctx, hc, c.inboxCalls, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", srv.url+"/inbox?limit=100", nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return req, err
	})
}

// preload fills dataDir's store with n pending events through the store's
// bulk path, unless a previous run left exactly that many there.
func preload(ctx context.Context, dataDir string, n int) error {
	marker := filepath.Join(dataDir, "preloaded")
	if b, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(n) {
		return nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dataDir, "triggers.db")
	_ = os.Remove(path)
	store, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	var ids event.IDs
	types := []string{"order.created", "order.paid", "order.shipped", "customer.created"}
	now := time.Now()
	const chunk = 20_000
	batch := make([]event.Event, 0, chunk)
	for i := 0; i < n; i++ {
		payload := fmt.Appendf(nil, `{"order_id":"ord_%d","amount":"129.90","currency":"EUR","customer":{"id":"cus_%d"},"items":3}`, i, i%5000)
		ne := event.NewEvent{Type: types[i%len(types)], Source: "bench", Payload: payload}
		batch = append(batch, ne.Build(ids.New(now), now, 0))
		if len(batch) == chunk || i == n-1 {
			if err := store.PutMany(ctx, batch); err != nil {
				return fmt.Errorf("preload: %w", err)
			}
			batch = batch[:0]
		}
	}
	if err := store.Close(); err != nil {
		return err
	}
	return os.WriteFile(marker, []byte(strconv.Itoa(n)), 0o600)
}

// tokenReport measures POST /token end to end: dominated by one argon2id
// verification (m=19 MiB, t=2, p=1).
func tokenReport(ctx context.Context, c config, dataDir string, out io.Writer) error {
	srv, err := startServer(c.binary, dataDir)
	if err != nil {
		return err
	}
	defer srv.stop()
	hc := keepAliveClient(1)
	var lat []time.Duration
	for range 30 {
		start := time.Now()
		if _, err := srv.token(ctx, hc); err != nil {
			return err
		}
		lat = append(lat, time.Since(start))
	}
	sortDurations(lat)
	fmt.Fprintln(out, "### POST /token (argon2id verification + HS256 signing), 30 sequential calls")
	fmt.Fprintln(out)
	fmt.Fprintf(out, "p50 %s, max %s. JWT verification per request: see `BenchmarkAuthorize` in the Go benchmarks below.\n\n", ms(percentile(lat, 0.5)), ms(lat[len(lat)-1]))
	return nil
}

// Command benchhttp measures the single binary over real HTTP, the way the
// issue states its performance goals, and prints a Markdown report:
//
//   - durable POST /events throughput next to GET /health throughput under
//     the same load generator (64 keep-alive clients), and their ratio;
//   - GET /inbox?limit=100 latency (p50/p99) with 1,000 and with 1,000,000
//     pending events, and their ratio;
//   - POST /token cost (argon2id) per call;
//   - webhook fan-out: deliveries/s to a local receiver with 1, 10 and 100
//     subscriptions, and POST /events → receiver latency, p50/p99.
//
// The server is the real binary (bin/triggers, built by `make build`) and
// the load generator runs on the same machine, so the ratios (measured in
// one run) are what matters, not the absolute numbers: the machines are
// shared and noisy. Run it with `make bench`.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

type config struct {
	binary     string
	clients    int
	duration   time.Duration
	rounds     int
	bigBacklog int
	inboxCalls int
	keepData   string
	// fanoutDeliveries is how many deliveries each fan-out run makes
	// (events = fanoutDeliveries / subscriptions); latencyEvents how many
	// events the one-at-a-time latency run sends.
	fanoutDeliveries int
	latencyEvents    int
	only             string
}

func main() {
	var c config
	flag.StringVar(&c.binary, "binary", "bin/triggers", "the triggers binary to measure")
	flag.IntVar(&c.clients, "clients", 64, "concurrent keep-alive clients for the throughput runs")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of each throughput run")
	flag.IntVar(&c.rounds, "rounds", 2, "alternating health/ingest rounds (their mean is reported)")
	flag.IntVar(&c.bigBacklog, "backlog", 1_000_000, "pending events for the large inbox run")
	flag.IntVar(&c.inboxCalls, "inbox-calls", 2000, "GET /inbox calls per backlog size")
	flag.IntVar(&c.fanoutDeliveries, "fanout-deliveries", 2000, "deliveries per fan-out run")
	flag.IntVar(&c.latencyEvents, "latency-events", 200, "events in the one-at-a-time delivery latency run")
	flag.StringVar(&c.only, "only", "", "run only this section: ingest, inbox, token or fanout")
	flag.StringVar(&c.keepData, "cache", "", "directory to keep the preloaded large store in between runs (default: a temp dir)")
	flag.Parse()
	if err := run(context.Background(), c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchhttp:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config, out io.Writer) error {
	bin, err := filepath.Abs(c.binary)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s: %w (run make build first)", bin, err)
	}
	c.binary = bin
	tmp, err := os.MkdirTemp("", "benchhttp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Fprintf(out, "## Single binary over HTTP — %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(out, "Machine: %s\n\n", machine())

	bigDir := c.keepData
	if bigDir == "" {
		bigDir = filepath.Join(tmp, "big")
	}
	sections := []struct {
		name string
		run  func() error
	}{
		{"ingest", func() error { return throughputReport(ctx, c, filepath.Join(tmp, "ingest"), out) }},
		{"inbox", func() error { return inboxReport(ctx, c, filepath.Join(tmp, "small"), bigDir, out) }},
		{"token", func() error { return tokenReport(ctx, c, filepath.Join(tmp, "token"), out) }},
		{"fanout", func() error { return fanoutReport(ctx, c, filepath.Join(tmp, "fanout"), out) }},
	}
	for _, s := range sections {
		if c.only != "" && c.only != s.name {
			continue
		}
		if err := s.run(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

// machine describes where the numbers come from.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				if _, v, ok := strings.Cut(line, ":"); ok {
					model = strings.TrimSpace(v)
				}
				break
			}
		}
	}
	return fmt.Sprintf("%d cores (%s), %s %s/%s", runtime.NumCPU(), model, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

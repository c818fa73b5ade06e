package metrics

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ContentType is the Prometheus text exposition format this package writes.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Registry keeps running totals for the Prometheus exposition: counters
// for Count metrics and histograms (in seconds) for Milliseconds metrics.
// It is safe for concurrent use. The zero value is not usable; call
// NewRegistry.
//
// The exposition is written by hand rather than with
// prometheus/client_golang: eleven fixed series without labels need about a
// hundred lines, while the library would bring its own global registry,
// process collectors and several dependencies into the single binary. The
// tests parse the output with an independent reader of the format.
type Registry struct {
	mu     sync.Mutex
	counts [numMetrics]float64
	hists  [numMetrics]histogram
}

type histogram struct {
	buckets []uint64 // observations per bucket (not cumulative); the last is +Inf
	count   uint64
	sum     float64 // seconds
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	r := &Registry{}
	for _, m := range All() {
		if b := definitions[m].buckets; b != nil {
			r.hists[m].buckets = make([]uint64, len(b)+1)
		}
	}
	return r
}

// Add implements Recorder for Count metrics; other metrics are ignored.
func (r *Registry) Add(m Metric, n float64) {
	if !m.valid() || m.Unit() != Count {
		return
	}
	r.mu.Lock()
	r.counts[m] += n
	r.mu.Unlock()
}

// Observe implements Recorder for Milliseconds metrics; other metrics are
// ignored. A negative duration is recorded as 0.
func (r *Registry) Observe(m Metric, d time.Duration) {
	if !m.valid() || m.Unit() != Milliseconds {
		return
	}
	s := max(d, 0).Seconds()
	bounds := definitions[m].buckets
	i, _ := slices.BinarySearch(bounds, s) // first bound >= s: Prometheus buckets are "le"
	r.mu.Lock()
	h := &r.hists[m]
	h.buckets[i]++
	h.count++
	h.sum += s
	r.mu.Unlock()
}

// Gauge is a value read when the exposition is written, such as the inbox
// depth.
type Gauge struct {
	Name  string // a valid Prometheus metric name
	Help  string
	Value func(ctx context.Context) (float64, error)
}

// WriteText writes the exposition: every metric of the set that the single
// binary emits (AWS-only ones are left out), then each gauge. A gauge
// whose Value fails makes WriteText stop and return that error.
func (r *Registry) WriteText(ctx context.Context, w io.Writer, gauges ...Gauge) error {
	vals := make([]float64, len(gauges))
	for i, g := range gauges {
		v, err := g.Value(ctx)
		if err != nil {
			return err
		}
		vals[i] = v
	}
	r.mu.Lock()
	counts, hists := r.counts, r.hists
	for m := range hists {
		hists[m].buckets = slices.Clone(hists[m].buckets)
	}
	r.mu.Unlock()

	bw := bufio.NewWriter(w)
	for _, m := range All() {
		if definitions[m].awsOnly {
			continue
		}
		name := m.PromName()
		switch m.Unit() {
		case Count:
			header(bw, name, m.Help(), "counter")
			sample(bw, name, "", counts[m])
		case Milliseconds:
			header(bw, name, m.Help()+" In seconds.", "histogram")
			h := hists[m]
			var cum uint64
			for i, le := range definitions[m].buckets {
				cum += h.buckets[i]
				sample(bw, name+"_bucket", `le="`+formatFloat(le)+`"`, float64(cum))
			}
			sample(bw, name+"_bucket", `le="+Inf"`, float64(h.count))
			sample(bw, name+"_sum", "", h.sum)
			sample(bw, name+"_count", "", float64(h.count))
		}
	}
	for i, g := range gauges {
		header(bw, g.Name, g.Help, "gauge")
		sample(bw, g.Name, "", vals[i])
	}
	return bw.Flush()
}

// Handler serves the exposition (GET /metrics). A gauge that cannot be
// read answers 503, so a scrape fails visibly (the up metric) instead of
// reporting a made-up value; the cause goes to log (nil: discarded).
func (r *Registry) Handler(log *slog.Logger, gauges ...Gauge) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var b strings.Builder
		if err := r.WriteText(req.Context(), &b, gauges...); err != nil {
			log.ErrorContext(req.Context(), "metrics: exposition failed", "error", err.Error())
			http.Error(w, "metrics are unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, b.String())
	})
}

// helpEscaper escapes HELP text as the format requires.
var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

func header(w *bufio.Writer, name, help, typ string) {
	w.WriteString("# HELP " + name + " " + helpEscaper.Replace(help) + "\n")
	w.WriteString("# TYPE " + name + " " + typ + "\n")
}

func sample(w *bufio.Writer, name, labels string, v float64) {
	w.WriteString(name)
	if labels != "" {
		w.WriteString("{" + labels + "}")
	}
	w.WriteString(" " + formatFloat(v) + "\n")
}

// formatFloat writes a value the way the format spells it, +Inf and NaN
// included.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

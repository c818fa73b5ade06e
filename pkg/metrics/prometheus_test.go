package metrics_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/triggershq/triggers/pkg/metrics"
)

// scrape serves the registry through its handler and parses the answer
// with Prometheus's own text parser.
func scrape(t testing.TB, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("got status %d, want 200: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != metrics.ContentType {
		t.Errorf("got Content-Type %q, want %q", ct, metrics.ContentType)
	}
	if got := expfmt.ResponseFormat(rec.Header()); got != expfmt.NewFormat(expfmt.TypeTextPlain) {
		t.Errorf("Prometheus reads the Content-Type as %v, want the text format", got)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("Prometheus cannot parse the exposition: %v\n%s", err, rec.Body)
	}
	return fams
}

func depth(n float64, err error) metrics.Gauge {
	return metrics.Gauge{Name: "triggers_inbox_depth", Help: "Pending events.", Value: func(context.Context) (float64, error) { return n, err }}
}

func TestExpositionParses(t *testing.T) {
	t.Parallel()
	r := metrics.NewRegistry()
	r.Add(metrics.EventsIngested, 3)
	r.Add(metrics.WebhookAttempts, 2)
	r.Observe(metrics.AckLatency, 20*time.Millisecond)
	r.Observe(metrics.AckLatency, 2*time.Hour)
	r.Observe(metrics.WebhookLatency, time.Minute) // past the last bound: only +Inf
	r.Add(metrics.AuthorizerDenied, 1)             // AWS only: not exposed

	fams := scrape(t, r.Handler(nil, depth(42, nil)))

	counter := func(name string) float64 {
		t.Helper()
		f, ok := fams[name]
		if !ok || f.GetType() != dto.MetricType_COUNTER {
			t.Fatalf("%s: missing or not a counter", name)
		}
		return f.GetMetric()[0].GetCounter().GetValue()
	}
	if got := counter("triggers_events_ingested_total"); got != 3 {
		t.Errorf("events ingested: got %v, want 3", got)
	}
	if got := counter("triggers_webhook_attempts_total"); got != 2 {
		t.Errorf("webhook attempts: got %v, want 2", got)
	}
	if got := counter("triggers_events_expired_total"); got != 0 {
		t.Errorf("events expired: got %v, want 0", got)
	}
	if _, ok := fams["triggers_authorizer_denied_total"]; ok {
		t.Error("the AWS-only authorizer metric is exposed")
	}
	for _, m := range metrics.All() {
		if m == metrics.AuthorizerDenied {
			continue
		}
		if _, ok := fams[m.PromName()]; !ok {
			t.Errorf("%s (%s) is not exposed", m, m.PromName())
		}
	}

	h := fams["triggers_ack_latency_seconds"]
	if h.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("ack latency: got type %v, want histogram", h.GetType())
	}
	hist := h.GetMetric()[0].GetHistogram()
	if hist.GetSampleCount() != 2 || math.Abs(hist.GetSampleSum()-7200.02) > 1e-9 {
		t.Errorf("ack latency: got count %d sum %v, want 2 and 7200.02", hist.GetSampleCount(), hist.GetSampleSum())
	}
	for _, b := range hist.GetBucket() {
		want := uint64(0)
		switch {
		case b.GetUpperBound() >= 7200:
			want = 2
		case b.GetUpperBound() >= 0.02:
			want = 1
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("ack latency bucket le=%v: got %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	wh := fams["triggers_webhook_latency_seconds"].GetMetric()[0].GetHistogram()
	for _, b := range wh.GetBucket() {
		if !math.IsInf(b.GetUpperBound(), 1) && b.GetCumulativeCount() != 0 {
			t.Errorf("webhook latency bucket le=%v: got %d, want 0 (a minute is past every bound)", b.GetUpperBound(), b.GetCumulativeCount())
		}
	}
	if wh.GetSampleCount() != 1 {
		t.Errorf("webhook latency count: got %d, want 1", wh.GetSampleCount())
	}

	g := fams["triggers_inbox_depth"]
	if g.GetType() != dto.MetricType_GAUGE || g.GetMetric()[0].GetGauge().GetValue() != 42 {
		t.Errorf("inbox depth: got %v, want gauge 42", g)
	}
}

func TestExpositionBucketBoundary(t *testing.T) {
	t.Parallel()
	r := metrics.NewRegistry()
	r.Observe(metrics.WebhookLatency, 10*time.Millisecond) // exactly on le="0.01"
	fams := scrape(t, r.Handler(nil))
	for _, b := range fams["triggers_webhook_latency_seconds"].GetMetric()[0].GetHistogram().GetBucket() {
		want := uint64(0)
		if b.GetUpperBound() >= 0.01 {
			want = 1
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("le=%v: got %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
}

func TestExpositionGaugeError(t *testing.T) {
	t.Parallel()
	r := metrics.NewRegistry()
	rec := httptest.NewRecorder()
	r.Handler(nil, depth(0, errors.New("store closed"))).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusServiceUnavailable || strings.Contains(string(body), "store closed") {
		t.Errorf("got %d %q, want 503 without the cause", rec.Code, body)
	}
}

func BenchmarkRegistryObserve(b *testing.B) {
	r := metrics.NewRegistry()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Observe(metrics.WebhookLatency, 30*time.Millisecond)
			r.Add(metrics.WebhookAttempts, 1)
		}
	})
}

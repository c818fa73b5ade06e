package metrics_test

import (
	"bytes"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/metrics"
)

func fixedClock() time.Time { return time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC) }

func TestEMFLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	e := metrics.NewEMF(&buf, "Triggers/test", fixedClock)
	e.Add(metrics.EventsIngested, 2)
	e.Add(metrics.EventsIngested, 1)
	e.Observe(metrics.AckLatency, 1500*time.Microsecond)
	e.Observe(metrics.AckLatency, 2*time.Second)
	e.Observe(metrics.AckLatency, -time.Second) // clock skew between writers
	e.Add(metrics.AckLatency, 5)                // wrong kind: ignored
	e.Observe(metrics.EventsIngested, time.Second)
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := parseEMF(t, buf.String())
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1:\n%s", len(lines), buf.String())
	}
	l := lines[0]
	if l.Timestamp != fixedClock().UnixMilli() || l.Namespace != "Triggers/test" {
		t.Errorf("got timestamp %d namespace %q, want %d and Triggers/test", l.Timestamp, l.Namespace, fixedClock().UnixMilli())
	}
	if !reflect.DeepEqual(l.Dimensions, [][]string{{}}) {
		t.Errorf("got dimensions %v, want one empty set", l.Dimensions)
	}
	wantValues := map[string][]float64{"EventsIngested": {3}, "AckLatency": {1.5, 2000, 0}}
	if !reflect.DeepEqual(l.Values, wantValues) {
		t.Errorf("got values %v, want %v", l.Values, wantValues)
	}
	wantUnits := map[string]string{"EventsIngested": "Count", "AckLatency": "Milliseconds"}
	if !reflect.DeepEqual(l.Units, wantUnits) {
		t.Errorf("got units %v, want %v", l.Units, wantUnits)
	}

	buf.Reset()
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("a flush with nothing recorded wrote %q, want nothing", buf.String())
	}
}

func TestEMFSplitsLongValueArrays(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	e := metrics.NewEMF(&buf, "ns", fixedClock)
	for i := range 250 {
		e.Observe(metrics.WebhookLatency, time.Duration(i)*time.Millisecond)
	}
	e.Add(metrics.WebhookAttempts, 250)
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := parseEMF(t, buf.String())
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3", len(lines))
	}
	var all []float64
	attempts := 0.0
	for _, l := range lines {
		all = append(all, l.Values["WebhookLatency"]...)
		for _, v := range l.Values["WebhookAttempts"] {
			attempts += v
		}
	}
	if len(all) != 250 || attempts != 250 {
		t.Errorf("got %d latency values and %v attempts over the lines, want 250 and 250", len(all), attempts)
	}
	for i, v := range all {
		if v != float64(i) {
			t.Fatalf("value %d: got %v, want %v", i, v, float64(i))
		}
	}
}

func TestEMFConcurrent(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	e := metrics.NewEMF(&buf, "ns", nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				e.Add(metrics.WebhookAttempts, 1)
			}
		})
	}
	wg.Wait()
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := parseEMF(t, buf.String())
	if got := lines[0].Values["WebhookAttempts"]; len(got) != 1 || got[0] != 8000 {
		t.Errorf("got %v, want [8000]", got)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestEMFWriteErrorDropsValues(t *testing.T) {
	t.Parallel()
	e := metrics.NewEMF(failingWriter{}, "ns", nil)
	e.Add(metrics.EventsIngested, 1)
	if err := e.Flush(); err == nil {
		t.Fatal("got no error from a failing writer")
	}
	var buf bytes.Buffer
	e2 := metrics.NewEMF(&buf, "ns", nil)
	if err := e2.Flush(); err != nil || buf.Len() != 0 {
		t.Errorf("got %v %q, want nothing", err, buf.String())
	}
}

package metrics

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// MaxEMFValues is the most values one metric may carry in one EMF line
// (CloudWatch's limit for a value array). A flush with more observations of
// a latency than that writes them over several lines.
const MaxEMFValues = 100

// EMF collects metric values and writes them, on Flush, as CloudWatch
// Embedded Metric Format JSON lines: the functions on AWS flush once per
// invocation, so each invocation writes at most one line (more only when a
// latency was observed more than MaxEMFValues times).
//
// Counts are summed between flushes; latencies are written as arrays of
// values in milliseconds, so CloudWatch can compute percentiles. Only
// metrics recorded since the last flush appear; nothing recorded, nothing
// written. It is safe for concurrent use.
type EMF struct {
	w         io.Writer
	namespace string
	now       func() time.Time

	mu      sync.Mutex
	touched [numMetrics]bool
	counts  [numMetrics]float64
	values  [numMetrics][]float64
}

// NewEMF returns an EMF writing to w (os.Stdout in a Lambda function, where
// CloudWatch Logs picks the lines up) in namespace. now stamps each line;
// nil means time.Now.
func NewEMF(w io.Writer, namespace string, now func() time.Time) *EMF {
	if now == nil {
		now = time.Now
	}
	return &EMF{w: w, namespace: namespace, now: now}
}

// Add implements Recorder for Count metrics; other metrics are ignored.
func (e *EMF) Add(m Metric, n float64) {
	if !m.valid() || m.Unit() != Count {
		return
	}
	e.mu.Lock()
	e.touched[m] = true
	e.counts[m] += n
	e.mu.Unlock()
}

// Observe implements Recorder for Milliseconds metrics; other metrics are
// ignored. A negative duration is recorded as 0.
func (e *EMF) Observe(m Metric, d time.Duration) {
	if !m.valid() || m.Unit() != Milliseconds {
		return
	}
	e.mu.Lock()
	e.touched[m] = true
	e.values[m] = append(e.values[m], ms(max(d, 0)))
	e.mu.Unlock()
}

// emfMetadata is the "_aws" member of an EMF line.
type emfMetadata struct {
	Timestamp         int64          `json:"Timestamp"` // ms since the epoch
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}

// Flush writes what was recorded since the last flush and starts afresh.
// The values are taken even if writing fails, so a broken writer cannot
// make the set grow without bound.
func (e *EMF) Flush() error {
	e.mu.Lock()
	touched, counts, values := e.touched, e.counts, e.values
	e.touched, e.counts, e.values = [numMetrics]bool{}, [numMetrics]float64{}, [numMetrics][]float64{}
	e.mu.Unlock()

	ts := e.now().UnixMilli()
	for first := true; ; first = false {
		line := map[string]any{}
		var defs []emfMetric
		for _, m := range All() {
			if !touched[m] {
				continue
			}
			switch m.Unit() {
			case Count:
				if !first {
					continue
				}
				line[m.Name()] = counts[m]
			case Milliseconds:
				n := min(len(values[m]), MaxEMFValues)
				if n == 0 {
					continue
				}
				line[m.Name()] = values[m][:n]
				values[m] = values[m][n:]
			}
			defs = append(defs, emfMetric{Name: m.Name(), Unit: m.Unit()})
		}
		if len(defs) == 0 {
			return nil
		}
		line["_aws"] = emfMetadata{
			Timestamp: ts,
			CloudWatchMetrics: []emfDirective{{
				Namespace:  e.namespace,
				Dimensions: [][]string{{}}, // one empty dimension set: metrics by name alone
				Metrics:    defs,
			}},
		}
		b, err := json.Marshal(line)
		if err != nil {
			return fmt.Errorf("emf: %w", err)
		}
		if _, err := e.w.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("emf: write: %w", err)
		}
	}
}

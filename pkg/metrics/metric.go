package metrics

import (
	"strings"
	"time"
	"unicode"
)

// Metric is one metric of the set.
type Metric int

// The metrics. Count metrics are added to (Recorder.Add); Milliseconds
// metrics are observed as durations (Recorder.Observe).
const (
	// EventsIngested counts events created (from the change feed: the
	// stream consumer's created records, on both deployments).
	EventsIngested Metric = iota
	// EventsDelivered counts events acknowledged (pending → delivered).
	EventsDelivered
	// EventsExpired counts events removed by retention while still
	// pending: events nobody acknowledged in time.
	EventsExpired
	// AckLatency is the time from an event's creation to its
	// acknowledgement.
	AckLatency
	// WebhookAttempts counts HTTP attempts to deliver a webhook.
	WebhookAttempts
	// WebhookSuccesses counts attempts answered 2xx.
	WebhookSuccesses
	// WebhookFailures counts attempts that did not succeed (retried or
	// not).
	WebhookFailures
	// WebhookLatency is the duration of one attempt, request to end of
	// the (bounded) response.
	WebhookLatency
	// WebhookDeadLettered counts deliveries given up after their last
	// retry (state dead).
	WebhookDeadLettered
	// SubscriptionsDisabled counts subscriptions disabled because their
	// deliveries kept failing.
	SubscriptionsDisabled
	// AuthorizerDenied counts requests the AWS Lambda authorizer refused
	// (AWS only: the single binary answers 401 in its HTTP layer).
	AuthorizerDenied

	numMetrics
)

// Unit is a CloudWatch unit.
type Unit string

// The units the set uses.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

type definition struct {
	name string
	unit Unit
	help string
	// buckets are the Prometheus histogram upper bounds, in seconds, of
	// a Milliseconds metric.
	buckets []float64
	// awsOnly metrics are not exposed by the single binary.
	awsOnly bool
}

// ackBuckets span an inbox consumer's range: a Zap polling every minute
// to a consumer that acks after hours.
var ackBuckets = []float64{0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900, 3600, 4 * 3600, 24 * 3600}

// webhookBuckets end at the 10 s attempt timeout.
var webhookBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

var definitions = [numMetrics]definition{
	EventsIngested:        {name: "EventsIngested", unit: Count, help: "Events created."},
	EventsDelivered:       {name: "EventsDelivered", unit: Count, help: "Events acknowledged (pending to delivered)."},
	EventsExpired:         {name: "EventsExpired", unit: Count, help: "Events removed by retention while still pending."},
	AckLatency:            {name: "AckLatency", unit: Milliseconds, help: "Time from an event's creation to its acknowledgement.", buckets: ackBuckets},
	WebhookAttempts:       {name: "WebhookAttempts", unit: Count, help: "Webhook delivery attempts."},
	WebhookSuccesses:      {name: "WebhookSuccesses", unit: Count, help: "Webhook attempts answered 2xx."},
	WebhookFailures:       {name: "WebhookFailures", unit: Count, help: "Webhook attempts that failed (network error, timeout, non-2xx)."},
	WebhookLatency:        {name: "WebhookLatency", unit: Milliseconds, help: "Duration of one webhook attempt.", buckets: webhookBuckets},
	WebhookDeadLettered:   {name: "WebhookDeadLettered", unit: Count, help: "Webhook deliveries given up after their last retry."},
	SubscriptionsDisabled: {name: "SubscriptionsDisabled", unit: Count, help: "Subscriptions disabled because their deliveries kept failing."},
	AuthorizerDenied:      {name: "AuthorizerDenied", unit: Count, help: "Requests the Lambda authorizer refused.", awsOnly: true},
}

// All returns every metric, in declaration order.
func All() []Metric {
	out := make([]Metric, numMetrics)
	for i := range out {
		out[i] = Metric(i)
	}
	return out
}

// Names returns the CloudWatch names of every metric, in declaration order.
func Names() []string {
	out := make([]string, 0, numMetrics)
	for _, m := range All() {
		out = append(out, m.Name())
	}
	return out
}

func (m Metric) valid() bool { return m >= 0 && m < numMetrics }

// Name is the CloudWatch metric name, e.g. "EventsIngested".
func (m Metric) Name() string {
	if !m.valid() {
		return "Invalid"
	}
	return definitions[m].name
}

// String is Name.
func (m Metric) String() string { return m.Name() }

// Unit is the CloudWatch unit.
func (m Metric) Unit() Unit {
	if !m.valid() {
		return ""
	}
	return definitions[m].unit
}

// Help is a one-line description.
func (m Metric) Help() string {
	if !m.valid() {
		return ""
	}
	return definitions[m].help
}

// PromName is the Prometheus name: "triggers_" and the snake_case name,
// with "_total" for a counter and "_seconds" for a latency (Prometheus
// counts time in seconds), e.g. "triggers_events_ingested_total",
// "triggers_ack_latency_seconds".
func (m Metric) PromName() string {
	suffix := "_total"
	if m.Unit() == Milliseconds {
		suffix = "_seconds"
	}
	return "triggers_" + snake(m.Name()) + suffix
}

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Recorder receives metric values. Both EMF and Registry implement it, and
// so does Discard. Implementations are safe for concurrent use.
type Recorder interface {
	// Add adds n to a Count metric.
	Add(m Metric, n float64)
	// Observe records one duration of a Milliseconds metric.
	Observe(m Metric, d time.Duration)
}

// Discard is a Recorder that drops everything.
var Discard Recorder = discard{}

type discard struct{}

func (discard) Add(Metric, float64)           {}
func (discard) Observe(Metric, time.Duration) {}

// ms converts a duration to fractional milliseconds (CloudWatch's unit).
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

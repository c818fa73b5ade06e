package metrics_test

import (
	"slices"
	"testing"

	"github.com/triggershq/triggers/pkg/metrics"
)

// TestNames pins the CloudWatch names and units: the CDK stack's dashboard
// and alarms address these exact strings (cdk/stack/metrics.go, compared
// by a test there).
func TestNames(t *testing.T) {
	t.Parallel()
	want := map[string]metrics.Unit{
		"EventsIngested": metrics.Count, "EventsDelivered": metrics.Count, "EventsExpired": metrics.Count,
		"AckLatency":      metrics.Milliseconds,
		"WebhookAttempts": metrics.Count, "WebhookSuccesses": metrics.Count, "WebhookFailures": metrics.Count,
		"WebhookLatency":      metrics.Milliseconds,
		"WebhookDeadLettered": metrics.Count, "SubscriptionsDisabled": metrics.Count, "AuthorizerDenied": metrics.Count,
	}
	names := metrics.Names()
	if len(names) != len(want) {
		t.Errorf("got %d metrics %v, want %d", len(names), names, len(want))
	}
	for _, m := range metrics.All() {
		u, ok := want[m.Name()]
		if !ok {
			t.Errorf("unexpected metric %s", m.Name())
			continue
		}
		if m.Unit() != u {
			t.Errorf("%s: got unit %s, want %s", m.Name(), m.Unit(), u)
		}
		if m.Help() == "" {
			t.Errorf("%s has no help text", m.Name())
		}
	}
	if !slices.Equal(names, slices.Compact(slices.Clone(names))) {
		t.Errorf("duplicate names in %v", names)
	}
}

func TestPromNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m    metrics.Metric
		want string
	}{
		{metrics.EventsIngested, "triggers_events_ingested_total"},
		{metrics.AckLatency, "triggers_ack_latency_seconds"},
		{metrics.WebhookDeadLettered, "triggers_webhook_dead_lettered_total"},
		{metrics.SubscriptionsDisabled, "triggers_subscriptions_disabled_total"},
	}
	for _, tt := range tests {
		if got := tt.m.PromName(); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.m, got, tt.want)
		}
	}
}

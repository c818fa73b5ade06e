package stack_test

import (
	"slices"
	"testing"

	"github.com/triggershq/triggers/cdk/stack"
	"github.com/triggershq/triggers/pkg/metrics"
)

// TestMetricNamesMatchTheFunctions compares the names the dashboard and
// alarms use with the ones the functions emit (pkg/metrics): a metric
// renamed on one side only would leave an empty graph or a silent alarm.
// Importing pkg/metrics here, in a test, keeps it out of the CDK app.
func TestMetricNamesMatchTheFunctions(t *testing.T) {
	t.Parallel()
	got := slices.Sorted(slices.Values(stack.MetricNames))
	want := slices.Sorted(slices.Values(metrics.Names()))
	if !slices.Equal(got, want) {
		t.Errorf("cdk/stack.MetricNames %v, pkg/metrics.Names() %v: they must be the same set", got, want)
	}
}

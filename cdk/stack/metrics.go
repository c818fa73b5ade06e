package stack

// Names of the metrics our functions emit as CloudWatch Embedded Metric
// Format lines, in the namespace TRIGGERS_METRICS_NAMESPACE
// ("Triggers/<stackName>") with no dimensions (one empty dimension set), so
// the dashboard and alarms below address them by name alone.
//
// They MUST match the names in pkg/metrics: a metric renamed there and not
// here leaves a silent, empty graph or an alarm that never fires. The cdk
// module cannot import pkg/metrics without linking it into the CDK app (and
// it may not exist yet when this is read), so the two lists are compared by
// a test rather than shared.
const (
	MetricEventsIngested        = "EventsIngested"        // Count
	MetricEventsDelivered       = "EventsDelivered"       // Count: acked
	MetricEventsExpired         = "EventsExpired"         // Count: removed by TTL while pending
	MetricAckLatency            = "AckLatency"            // Milliseconds from created to acked
	MetricWebhookAttempts       = "WebhookAttempts"       // Count
	MetricWebhookSuccesses      = "WebhookSuccesses"      // Count
	MetricWebhookFailures       = "WebhookFailures"       // Count
	MetricWebhookLatency        = "WebhookLatency"        // Milliseconds per attempt
	MetricWebhookDeadLettered   = "WebhookDeadLettered"   // Count: gave up after the last retry
	MetricSubscriptionsDisabled = "SubscriptionsDisabled" // Count
	MetricAuthorizerDenied      = "AuthorizerDenied"      // Count
)

// MetricNames lists every metric above, for the comparison test.
var MetricNames = []string{
	MetricEventsIngested, MetricEventsDelivered, MetricEventsExpired,
	MetricAckLatency,
	MetricWebhookAttempts, MetricWebhookSuccesses, MetricWebhookFailures,
	MetricWebhookLatency, MetricWebhookDeadLettered,
	MetricSubscriptionsDisabled, MetricAuthorizerDenied,
}

// MetricsNamespace is the namespace the functions of the stack named
// stackName write to (their TRIGGERS_METRICS_NAMESPACE).
func MetricsNamespace(stackName string) string { return "Triggers/" + stackName }

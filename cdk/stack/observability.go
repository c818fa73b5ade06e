package stack

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/triggershq/triggers/pkg/routes"
)

// Alarm thresholds. Each alarm's runbook is in docs/deploy.md ("Alarms").
const (
	// Api5xxPercent: more than this share of requests answered 5xx in 3 of
	// 5 one-minute periods that saw at least Api5xxMinRequests requests
	// (so one error among three requests at night does not page).
	Api5xxPercent     = 1
	Api5xxMinRequests = 10
	// IteratorAgeThreshold: the stream consumer is this far behind for 5
	// minutes in a row; webhooks and metrics are late by as much.
	IteratorAgeThreshold = time.Minute
)

// API Gateway metric names for HTTP APIs (not the REST API's 4XXError).
const (
	apiCount   = "Count"
	api4xx     = "4xx"
	api5xx     = "5xx"
	apiLatency = "Latency"
)

// addObservability creates the dashboard, the alarms and the topic they
// notify.
func (b *builder) addObservability() {
	topic := awssns.NewTopic(b.stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		TopicName:   jsii.String(b.cfg.StackName + "-alarms"),
		DisplayName: jsii.String("Triggers alarms (" + b.cfg.StackName + ")"),
	})
	if b.cfg.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(b.cfg.AlarmEmail), nil))
	}
	action := awscloudwatchactions.NewSnsAction(topic)
	b.alarmTopic = topic

	for _, a := range b.alarms() {
		alarm := awscloudwatch.NewAlarm(b.stack, jsii.String(a.id), &awscloudwatch.AlarmProps{
			AlarmName:          jsii.String(b.cfg.StackName + "-" + a.name),
			AlarmDescription:   jsii.String(a.description + " Runbook: docs/deploy.md#alarms"),
			Metric:             a.metric,
			Threshold:          jsii.Number(a.threshold),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			EvaluationPeriods:  jsii.Number(a.periods),
			DatapointsToAlarm:  jsii.Number(a.datapoints),
			// No data means no traffic or an empty queue, not trouble.
			TreatMissingData: awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		alarm.AddAlarmAction(action)
		alarm.AddOkAction(action)
	}

	b.dashboard()
}

type alarmSpec struct {
	id, name, description string
	metric                awscloudwatch.IMetric
	threshold             float64
	periods, datapoints   float64
}

func (b *builder) alarms() []alarmSpec {
	minute := awscdk.Duration_Minutes(jsii.Number(1))
	five := awscdk.Duration_Minutes(jsii.Number(5))
	fiveXXRate := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf("IF(requests >= %d, 100 * errors / requests, 0)", Api5xxMinRequests)),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"errors":   b.apiMetric(api5xx, "Sum", "", minute),
			"requests": b.apiMetric(apiCount, "Sum", "", minute),
		},
		Label:  jsii.String("5xx % of requests"),
		Period: minute,
	})

	var throttled []string
	using := map[string]awscloudwatch.IMetric{}
	for i, f := range Functions {
		id := fmt.Sprintf("t%d", i)
		using[id] = b.fns[f.Name].fn.MetricThrottles(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")})
		throttled = append(throttled, "FILL("+id+", 0)")
	}
	lambdaThrottles := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String(strings.Join(throttled, " + ")),
		UsingMetrics: &using,
		Label:        jsii.String("Lambda throttles, all functions"),
		Period:       five,
	})
	tableThrottles := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String("FILL(r, 0) + FILL(w, 0) + FILL(g1, 0) + FILL(g2, 0)"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"r":  b.tableMetric("ReadThrottleEvents", "", five),
			"w":  b.tableMetric("WriteThrottleEvents", "", five),
			"g1": b.tableMetric("WriteThrottleEvents", IndexPending, five),
			"g2": b.tableMetric("WriteThrottleEvents", IndexPendingByType, five),
		},
		Label:  jsii.String("DynamoDB throttle events (table and pending indexes)"),
		Period: five,
	})

	return []alarmSpec{
		{id: "Api5xxRateAlarm", name: "api-5xx-rate",
			description: fmt.Sprintf("More than %d%% of API requests answered 5xx.", Api5xxPercent),
			metric:      fiveXXRate, threshold: Api5xxPercent, periods: 5, datapoints: 3},
		{id: "StreamDlqAlarm", name: "stream-dlq-not-empty",
			description: "Stream records were given up on after retries (webhooks/metrics for those events were skipped).",
			metric:      queueDepth(b.streamDLQ, "stream DLQ", minute), threshold: 1, periods: 1, datapoints: 1},
		{id: "RetryDlqAlarm", name: "retry-dlq-not-empty",
			description: "Webhook retry messages failed processing repeatedly and were dead-lettered.",
			metric:      queueDepth(b.retryDLQ, "retry DLQ", minute), threshold: 1, periods: 1, datapoints: 1},
		{id: "StreamIteratorAgeAlarm", name: "stream-iterator-age",
			description: fmt.Sprintf("The stream consumer is more than %v behind.", IteratorAgeThreshold),
			metric: b.fns[FuncStream].fn.Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{
				Period: minute, Statistic: jsii.String("Maximum"),
			}),
			threshold: float64(IteratorAgeThreshold.Milliseconds()), periods: 5, datapoints: 5},
		{id: "LambdaThrottlesAlarm", name: "lambda-throttles",
			description: "A function was throttled (concurrency limit reached).",
			metric:      lambdaThrottles, threshold: 1, periods: 1, datapoints: 1},
		{id: "TableThrottlesAlarm", name: "dynamodb-throttles",
			description: "DynamoDB throttled reads or writes (hot partition or account limit).",
			metric:      tableThrottles, threshold: 1, periods: 1, datapoints: 1},
	}
}

// dashboard lays out one row per concern, top to bottom in the order an
// operator asks: is traffic flowing, is it erroring, is it slow, is it
// throttled, are webhooks and the stream keeping up, is anything dead.
func (b *builder) dashboard() {
	minute := awscdk.Duration_Minutes(jsii.Number(1))
	graph := func(title string, width float64, metrics ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Width: jsii.Number(width), Height: jsii.Number(6),
			Left: &metrics,
		})
	}

	var inboxErrors, routeP99 []awscloudwatch.IMetric
	for _, r := range b.routes {
		if r.Function == routes.FuncInbox {
			inboxErrors = append(inboxErrors,
				b.apiMetric(api4xx, "Sum", r.Pattern(), minute),
				b.apiMetric(api5xx, "Sum", r.Pattern(), minute))
		}
		routeP99 = append(routeP99, b.apiMetric(apiLatency, "p99", r.Pattern(), minute))
	}
	var throttles []awscloudwatch.IMetric
	for _, f := range Functions {
		throttles = append(throttles, b.fns[f.Name].fn.MetricThrottles(&awscloudwatch.MetricOptions{
			Period: minute, Statistic: jsii.String("Sum"), Label: jsii.String(f.Name),
		}))
	}
	throttles = append(throttles,
		b.tableMetric("ReadThrottleEvents", "", minute),
		b.tableMetric("WriteThrottleEvents", "", minute),
		b.tableMetric("WriteThrottleEvents", IndexPending, minute),
		b.tableMetric("WriteThrottleEvents", IndexPendingByType, minute))

	d := awscloudwatch.NewDashboard(b.stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String(b.cfg.StackName),
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)),
	})
	d.AddWidgets(
		graph("Events ingested / acked / expired (per minute)", 12,
			b.emf(MetricEventsIngested, "Sum", minute),
			b.emf(MetricEventsDelivered, "Sum", minute),
			b.emf(MetricEventsExpired, "Sum", minute)),
		graph("Ack latency: created -> acked (ms)", 12,
			b.emf(MetricAckLatency, "p50", minute),
			b.emf(MetricAckLatency, "p99", minute)),
	)
	d.AddWidgets(
		graph("API requests and errors", 8,
			b.apiMetric(apiCount, "Sum", "", minute),
			b.apiMetric(api4xx, "Sum", "", minute),
			b.apiMetric(api5xx, "Sum", "", minute)),
		graph("Inbox 4xx / 5xx per route", 8, inboxErrors...),
		graph("Authorizer denials and errors", 8,
			b.emf(MetricAuthorizerDenied, "Sum", minute),
			b.fns[FuncAuthorizer].fn.MetricErrors(&awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String("Sum")})),
	)
	d.AddWidgets(
		graph("p99 latency per route (ms)", 12, routeP99...),
		graph("Throttles: Lambda per function, DynamoDB", 12, throttles...),
	)
	d.AddWidgets(
		graph("Webhooks: attempts / successes / failures / dead-lettered / subscriptions disabled", 8,
			b.emf(MetricWebhookAttempts, "Sum", minute),
			b.emf(MetricWebhookSuccesses, "Sum", minute),
			b.emf(MetricWebhookFailures, "Sum", minute),
			b.emf(MetricWebhookDeadLettered, "Sum", minute),
			b.emf(MetricSubscriptionsDisabled, "Sum", minute)),
		graph("Webhook latency (ms)", 8,
			b.emf(MetricWebhookLatency, "p50", minute),
			b.emf(MetricWebhookLatency, "p99", minute)),
		graph("Stream iterator age (ms)", 8,
			b.fns[FuncStream].fn.Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{
				Period: minute, Statistic: jsii.String("Maximum"),
			})),
	)
	d.AddWidgets(
		graph("DLQ depths", 12,
			queueDepth(b.streamDLQ, "stream DLQ", minute),
			queueDepth(b.retryDLQ, "retry DLQ", minute)),
		graph("Retry queue: depth and oldest message age (s)", 12,
			queueDepth(b.retryQueue, "retry queue", minute),
			b.retryQueue.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String("Maximum")})),
	)
}

// emf is one of our own EMF metrics: namespace Triggers/<stack>, no
// dimensions.
func (b *builder) emf(name, stat string, period awscdk.Duration) awscloudwatch.IMetric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:  jsii.String(MetricsNamespace(b.cfg.StackName)),
		MetricName: jsii.String(name),
		Statistic:  jsii.String(stat),
		Period:     period,
		Label:      jsii.String(name + " " + stat),
	})
}

// apiMetric is an HTTP API metric of the stage (route "") or of one route.
// Per-route metrics (dimension Route = the route key) exist because the
// stage enables detailed metrics.
func (b *builder) apiMetric(name, stat, route string, period awscdk.Duration) awscloudwatch.IMetric {
	dims := map[string]*string{"ApiId": b.api.ApiId(), "Stage": jsii.String(StageName)}
	label := name
	if route != "" {
		dims["Route"] = jsii.String(route)
		label = route + " " + name
	}
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("AWS/ApiGateway"),
		MetricName:    jsii.String(name),
		DimensionsMap: &dims,
		Statistic:     jsii.String(stat),
		Period:        period,
		Label:         jsii.String(label + " " + stat),
	})
}

// tableMetric is a DynamoDB metric of the table, or of one of its indexes.
func (b *builder) tableMetric(name, index string, period awscdk.Duration) awscloudwatch.IMetric {
	dims := map[string]*string{"TableName": b.table.TableName()}
	label := name
	if index != "" {
		dims["GlobalSecondaryIndexName"] = jsii.String(index)
		label = index + " " + name
	}
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("AWS/DynamoDB"),
		MetricName:    jsii.String(name),
		DimensionsMap: &dims,
		Statistic:     jsii.String("Sum"),
		Period:        period,
		Label:         jsii.String(label),
	})
}

func queueDepth(q awssqs.Queue, label string, period awscdk.Duration) awscloudwatch.IMetric {
	return q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
		Period: period, Statistic: jsii.String("Maximum"), Label: jsii.String(label + " messages"),
	})
}

package stack

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/jsii-runtime-go"
)

// Stream event source failure handling. A batch that keeps failing blocks
// its shard, so retries are bounded in count and in record age; what is
// given up on goes (as a pointer to the shard and sequence numbers) to the
// stream DLQ, which alarms.
const (
	// StreamRetryAttempts bounds retries of a failing batch (after
	// bisection, of the failing half).
	StreamRetryAttempts = 10
	// StreamMaxRecordAge discards records older than this. It is well
	// inside the stream's 24 h retention, so a DLQ entry can still be
	// replayed from the stream for the rest of the day.
	StreamMaxRecordAge = 6 * time.Hour
	// DeliverBatchSize is how many retry messages one deliver invocation
	// takes.
	DeliverBatchSize = 10
)

// addEventSources wires the DynamoDB stream to the stream function and the
// retry queue to the deliver function.
func (b *builder) addEventSources() {
	stream := b.fns[FuncStream]
	awslambda.NewEventSourceMapping(b.stack, jsii.String("StreamEventSource"), &awslambda.EventSourceMappingProps{
		Target:         stream.fn,
		EventSourceArn: b.table.TableStreamArn(),
		// TRIM_HORIZON, not LATEST: records written while the mapping is
		// being (re)created are processed rather than skipped.
		StartingPosition:  awslambda.StartingPosition_TRIM_HORIZON,
		BatchSize:         jsii.Number(float64(b.cfg.StreamBatchSize)),
		MaxBatchingWindow: awscdk.Duration_Seconds(jsii.Number(b.cfg.StreamBatchWindow.Seconds())),
		// The handler reports the failed records (batchItemFailures):
		// Lambda retries from the first failure instead of the whole
		// batch, and bisects a batch that fails as a whole to isolate a
		// poison record.
		ReportBatchItemFailures: jsii.Bool(true),
		BisectBatchOnError:      jsii.Bool(true),
		RetryAttempts:           jsii.Number(StreamRetryAttempts),
		MaxRecordAge:            awscdk.Duration_Seconds(jsii.Number(StreamMaxRecordAge.Seconds())),
		OnFailure:               awslambdaeventsources.NewSqsDlq(b.streamDLQ),
		// Only event items (pk EVT#...): idempotency, rate-limit,
		// subscription and delivery items never wake the function. Keys are
		// present in every record, TTL removals included.
		Filters: &[]*map[string]interface{}{
			awslambda.FilterCriteria_Filter(&map[string]interface{}{
				"dynamodb": map[string]interface{}{
					"Keys": map[string]interface{}{
						"pk": map[string]interface{}{"S": awslambda.FilterRule_BeginsWith(jsii.String(EventKeyPrefix))},
					},
				},
			}),
		},
	})

	b.fns[FuncDeliver].fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(b.retryQueue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(DeliverBatchSize),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxConcurrency:          jsii.Number(float64(b.cfg.DeliverMaxConcurrency)),
	}))
}

package dynamodbstreams

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/triggershq/triggers/pkg/event"
)

// Options configure Handler.
type Options struct {
	// Logger receives ignored and failed records. Nil discards.
	Logger *slog.Logger
}

// Handler returns the Lambda handler of the stream function: each record's
// change goes to handle (stream.Consumer.Handle), in order.
//
// Partial batch failures, as AWS documents them for stream sources with
// ReportBatchItemFailures: at the first record that fails (handle returns
// an error, or the record cannot be read), the handler stops and reports
// that record's sequence number as the one batch item failure. Lambda then
// checkpoints every record before it and retries from it, so records of the
// shard are never handled out of order and none after a failure is
// skipped. (An invocation's batch comes from one shard, so "the first
// failure" is the first failure of that shard.) After the mapping's retry
// limit or record age, Lambda gives the failing records to the on-failure
// destination (the stream DLQ) and moves on.
//
// The handler never returns an error itself: a function error would make
// Lambda retry the whole batch, re-handling records that succeeded.
func Handler(handle func(context.Context, event.Change) error, o Options) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		for _, r := range ev.Records {
			attrs := []any{"event_id", r.EventID, "event_name", r.EventName, "sequence_number", r.Change.SequenceNumber}
			ch, err := Change(r)
			switch {
			case errors.Is(err, ErrNotEvent), errors.Is(err, ErrNoChange):
				continue
			case errors.Is(err, ErrManualDelete):
				log.WarnContext(ctx, "stream: event item deleted outside TTL; ignored", attrs...)
				continue
			case err != nil:
				log.ErrorContext(ctx, "stream: record cannot be read (poison); reporting it failed", append(attrs, "error", err.Error())...)
				return failed(r), nil
			}
			if err := handle(ctx, ch); err != nil {
				log.ErrorContext(ctx, "stream: record failed; reporting it for retry", append(attrs, "kind", string(ch.Kind), "error", err.Error())...)
				return failed(r), nil
			}
		}
		return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}, nil
	}
}

func failed(r events.DynamoDBEventRecord) events.DynamoDBEventResponse {
	return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: r.Change.SequenceNumber}}}
}

package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/triggershq/triggers/pkg/event"
)

// RetryAfter hints, in seconds, for CodeUnavailable. Throttling on an
// on-demand table clears as DynamoDB adds partitions (seconds); a transient
// failure usually clears at once, but a client retrying immediately after
// our own retries failed would only add load.
const (
	retryAfterThrottled = 2
	retryAfterTransient = 1
)

var (
	throttles  = retry.IsErrorThrottles(retry.DefaultThrottles)
	retryables = retry.IsErrorRetryables(retry.DefaultRetryables)
)

// storeError turns an SDK error, seen after the retryer has spent its
// budget, into the domain's error model:
//
//   - throttling (ProvisionedThroughputExceededException, ThrottlingException,
//     RequestLimitExceeded, ...) → CodeUnavailable, retry after 2 s;
//   - transient failures (HTTP 5xx, connection errors, timeouts, a cancelled
//     or expired context) → CodeUnavailable, retry after 1 s;
//   - DynamoDB rejecting an item as too large (our own size check should
//     prevent it) → CodeTooLarge, so it is never a 500;
//   - anything else → CodeInternal, with the cause kept for the log.
//
// *event.Error values pass through unchanged.
func storeError(op string, err error) error {
	if err == nil {
		return nil
	}
	var domain *event.Error
	if errors.As(err, &domain) {
		return err
	}
	cause := fmt.Errorf("%s: %w", op, err)
	switch {
	case isThrottle(err):
		return &event.Error{Code: event.CodeUnavailable, Message: "the database is busy, retry later",
			RetryAfterSeconds: retryAfterThrottled, Err: cause}
	case isTransient(err):
		return &event.Error{Code: event.CodeUnavailable, Message: "the database is temporarily unavailable, retry later",
			RetryAfterSeconds: retryAfterTransient, Err: cause}
	case isItemTooLarge(err):
		return &event.Error{Code: event.CodeTooLarge,
			Message: fmt.Sprintf("the event is larger than the store's item limit of %d bytes", MaxItemBytes), Err: cause}
	}
	return event.Internal(op, err)
}

func isThrottle(err error) bool { return throttles.IsErrorThrottle(err) == aws.TrueTernary }

func isTransient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var canceled *aws.RequestCanceledError
	if errors.As(err, &canceled) {
		return true
	}
	return retryables.IsErrorRetryable(err) == aws.TrueTernary
}

// isItemTooLarge recognises DynamoDB's ValidationException for an oversized
// item; the message is the only way to tell it apart.
func isItemTooLarge(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ValidationException" {
		return false
	}
	return strings.Contains(strings.ToLower(api.ErrorMessage()), "item size")
}

// conditionFailed returns the ConditionalCheckFailedException in err's chain.
func conditionFailed(err error) (*types.ConditionalCheckFailedException, bool) {
	var ccf *types.ConditionalCheckFailedException
	ok := errors.As(err, &ccf)
	return ccf, ok
}

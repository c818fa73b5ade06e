package dynamostore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Fault injection through the SDK's middleware stack: the requests still go
// to moto; only the chosen one is cut short.

// crashBeforeEventWrite fails any PutItem of an event item while armed, as
// if the process died between the idempotency reservation and the event.
func crashBeforeEventWrite(armed *atomic.Bool) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("crash",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if put, ok := in.Parameters.(*dynamodb.PutItemInput); ok && armed.Load() {
						if pk, ok := put.Item["pk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, "EVT#") {
							return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("simulated crash before the event item was written")
						}
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	}
}

// lostResponse lets the next `lose` attempts of the operation reach
// DynamoDB and succeed there, then reports a retryable network error
// instead of the response, so the SDK sends the same request again.
func lostResponse(operation string, lose *atomic.Int64) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("lose-response",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleFinalize(ctx, in)
					if err == nil && awsmiddleware.GetOperationName(ctx) == operation && lose.Add(-1) >= 0 {
						return out, md, connectionReset{}
					}
					return out, md, err
				}), "Retry", middleware.After)
		})
	}
}

type connectionReset struct{}

func (connectionReset) Error() string        { return "read: connection reset by peer (simulated)" }
func (connectionReset) RetryableError() bool { return true }

// requestCounter counts operations by name (once per call, not per attempt).
type requestCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func newRequestCounter() *requestCounter { return &requestCounter{counts: map[string]int{}} }

func (c *requestCounter) option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("count",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					c.mu.Lock()
					c.counts[awsmiddleware.GetOperationName(ctx)]++
					c.mu.Unlock()
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	}
}

// take returns the counts so far and resets them.
func (c *requestCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.counts
	c.counts = map[string]int{}
	return out
}

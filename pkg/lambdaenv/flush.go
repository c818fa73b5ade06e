package lambdaenv

import (
	"context"
	"log/slog"
)

// Flushed wraps a Lambda handler so that flush runs after every
// invocation, before the response goes back: the functions write their
// metrics as one EMF line per invocation (metrics.EMF.Flush), and Lambda
// may freeze the process as soon as the handler returns. A failing flush
// is logged, never turned into a failed invocation.
func Flushed[E, R any](h func(context.Context, E) (R, error), flush func() error, log *slog.Logger) func(context.Context, E) (R, error) {
	return func(ctx context.Context, ev E) (R, error) {
		resp, err := h(ctx, ev)
		if ferr := flush(); ferr != nil && log != nil {
			log.ErrorContext(ctx, "metrics flush failed", "error", ferr.Error())
		}
		return resp, err
	}
}

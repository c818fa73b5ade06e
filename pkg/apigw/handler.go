package apigw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/event"
)

// Options tune Handler. The zero value is the production setting.
type Options struct {
	// Logger receives the events the adapter rejects and handler panics.
	// Nil discards them.
	Logger *slog.Logger
	// Now is the clock that decides whether the token behind an authorizer
	// verdict has expired since API Gateway cached it. Nil means time.Now.
	Now func() time.Time
	// KeepStagePrefix keeps a named stage's "/<stage>" at the start of the
	// path. By default it is removed, so routes match on every stage.
	KeepStagePrefix bool
}

// Handler adapts h to API Gateway HTTP API (payload format 2.0) events: the
// result is a Lambda handler. It never returns an error: API Gateway would
// answer a bare 502 for one, so every failure, malformed events included, is
// an HTTP answer (see the package doc).
func Handler(h http.Handler, opts Options) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		reqID := ev.RequestContext.RequestID
		if !printableID(reqID) {
			reqID = ""
		}
		req, err := newRequest(ctx, &ev, opts.KeepStagePrefix)
		if err != nil {
			log.WarnContext(ctx, "apigw: malformed event", slog.String("error", err.Error()))
			return problemResponse(err, reqID, nil), nil
		}
		if a := ev.RequestContext.Authorizer; a != nil && a.Lambda != nil {
			p, err := principalFromContext(a.Lambda)
			switch {
			case errors.Is(err, errNoPrincipal):
				// Not our authorizer's verdict: attach nothing, so the
				// protected routes answer 401 and the public ones still work.
				log.WarnContext(ctx, "apigw: authorizer context without a subject; ignoring it")
			case err != nil:
				log.ErrorContext(ctx, "apigw: unusable authorizer context", slog.String("error", err.Error()))
				return problemResponse(event.Internal("read authorizer context", err), reqID, nil), nil
			case !p.ExpiresAt.IsZero() && !now().Before(p.ExpiresAt.Add(auth.Leeway)):
				// API Gateway may reuse an allow verdict from its
				// authorizer cache after the token expired; expiry is
				// checked again here, with the leeway Authorize allows.
				challenge := http.Header{"WWW-Authenticate": {`Bearer error="invalid_token"`}}
				err := event.Errorf(event.CodeUnauthorized, "token expired")
				return problemResponse(err, reqID, challenge), nil
			default:
				req = req.WithContext(auth.WithPrincipal(req.Context(), p))
			}
		}
		rec := newRecorder()
		if err := serve(h, rec, req); err != nil {
			log.ErrorContext(ctx, "apigw: handler panicked", slog.String("error", err.Error()))
			if !rec.wroteHeader {
				return problemResponse(event.Internal("serve", err), reqID, nil), nil
			}
		}
		return rec.response(req.Method), nil
	}
}

// serve runs h, turning a panic into an error as net/http's server would
// (it logs and drops the connection; here the client gets a 500).
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}

// printableID reports whether an id may be echoed in a header: 1 to 128
// printable ASCII characters without spaces.
func printableID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= 0x20 || id[i] >= 0x7f {
			return false
		}
	}
	return true
}

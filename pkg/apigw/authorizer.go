package apigw

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/event"
)

// Verifier checks an Authorization header; *auth.Authenticator is one.
// Authorize returns CodeUnauthorized for a missing, malformed, expired,
// tampered or revoked token, and CodeUnavailable when the credentials
// cannot be read.
type Verifier interface {
	Authorize(ctx context.Context, authorization string) (auth.Principal, error)
}

var _ Verifier = (*auth.Authenticator)(nil)

// AuthorizerOptions tune Authorizer. The zero value is the production setting.
type AuthorizerOptions struct {
	// Logger receives one line per denial (never the token) and per
	// failure. Nil discards them.
	Logger *slog.Logger
}

// Authorizer returns the Lambda handler of an HTTP API Lambda authorizer
// (payload format 2.0, simple responses enabled): it verifies the request's
// Authorization header with v and answers with a simple response.
//
//   - A good token: isAuthorized true, and a context (see ContextSubject and
//     the other Context* names) that API Gateway passes to the integration as
//     requestContext.authorizer.lambda, where Handler reads it. Scopes are not
//     checked here: the handlers check them per route, so one cached verdict
//     per token is right for every route.
//   - A token that is not good (or none): isAuthorized false, which API
//     Gateway answers with 403 {"message":"Forbidden"}.
//   - Credentials that cannot be read (Secrets Manager failing): an error,
//     which API Gateway answers with 500 and does not cache, so a retry can
//     succeed.
//
// docs/lambda.md explains these answers and the cache's consequences.
func Authorizer(v Verifier, opts AuthorizerOptions) func(context.Context, events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	deny := events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}
	return func(ctx context.Context, req events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
		header := headerValue(req.Headers, "authorization")
		if header == "" && len(req.IdentitySource) > 0 {
			header = req.IdentitySource[0]
		}
		p, err := v.Authorize(ctx, header)
		if err == nil {
			return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: authorizerContext(p)}, nil
		}
		attrs := []slog.Attr{
			slog.String("route", req.RouteKey),
			slog.String("source_ip", req.RequestContext.HTTP.SourceIP),
			slog.String("code", string(event.ErrorCode(err))),
		}
		switch event.ErrorCode(err) {
		case event.CodeUnauthorized, event.CodeForbidden, event.CodeInvalid, event.CodeNotFound:
			// The client-safe message only: the cause may come from parsing
			// the token, and the token is a secret.
			var e *event.Error
			if errors.As(err, &e) {
				attrs = append(attrs, slog.String("reason", e.Message))
			}
			log.LogAttrs(ctx, slog.LevelInfo, "authorizer: denied", attrs...)
			return deny, nil
		}
		attrs = append(attrs, slog.String("error", err.Error()))
		log.LogAttrs(ctx, slog.LevelError, "authorizer: cannot decide", attrs...)
		return deny, errors.New("authorizer unavailable")
	}
}

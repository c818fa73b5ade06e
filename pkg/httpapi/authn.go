package httpapi

import (
	"net/http"

	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/event"
)

// authenticated requires a verified principal carrying scope ("" for any)
// before next runs, and puts the principal in next's request context.
//
// A principal already in the context was put there by the API Gateway
// adapter from the Lambda authorizer's verdict; otherwise the Authorization
// header is verified here. The scope is checked in both cases.
func (a *API) authenticated(scope auth.Scope, next handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		p, ok := auth.PrincipalFrom(ctx)
		if !ok {
			var err error
			if p, err = a.authorize(w, r); err != nil {
				return err
			}
			r = r.WithContext(auth.WithPrincipal(ctx, p))
		}
		infoFrom(ctx).keyID = p.KeyID
		if scope != "" && !p.Has(scope) {
			// RFC 6750 §3.1: say which scope would have been enough.
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+string(scope)+`"`)
			return event.Errorf(event.CodeForbidden, "this token lacks the %q scope that this route requires", scope)
		}
		return next(w, r)
	}
}

// authorize verifies the request's Authorization header.
func (a *API) authorize(w http.ResponseWriter, r *http.Request) (auth.Principal, error) {
	headers := r.Header.Values("Authorization")
	switch {
	case len(headers) == 0 || headers[0] == "":
		return auth.Principal{}, event.Errorf(event.CodeUnauthorized,
			"missing bearer token: send Authorization: Bearer <token> (get one from POST /token)")
	case len(headers) > 1:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request"`)
		return auth.Principal{}, event.Errorf(event.CodeUnauthorized, "send exactly one Authorization header")
	case a.auth == nil:
		// Behind the Lambda authorizer every request arrives with a
		// principal; one without is not ours to verify.
		return auth.Principal{}, event.Errorf(event.CodeUnauthorized, "the request carries no verified principal")
	}
	p, err := a.auth.Authorize(r.Context(), headers[0])
	if err != nil {
		if event.ErrorCode(err) == event.CodeUnauthorized {
			// RFC 6750 §3.1: a token was presented and it is not good.
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		return auth.Principal{}, err
	}
	return p, nil
}

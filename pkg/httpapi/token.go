package httpapi

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

// tokenResponse is RFC 6749 §5.1's access token response, with one
// deliberate difference: expires_in is a JSON string ("86400"), not a
// number. The seed's Go client decodes this body into map[string]string
// and fails on any non-string member; seed-compatible shapes come first.
// golang.org/x/oauth2 accepts both forms (some providers send strings); a
// client that declares expires_in as a typed integer does not.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in,string"`
}

// tokenMediaTypes is what 415 answers list as accepted by POST /token.
const tokenMediaTypes = "application/x-www-form-urlencoded (username=api&password=KEY) or application/json ({\"api_key\":\"KEY\"})"

// token exchanges an API key for a bearer token. The key arrives as the
// OAuth2 password grant's password (the seed's form) or as JSON api_key.
// The attempt limiter is asked before any argon2 work and told of every
// wrong key, so guessing keys from one address gets slower, then 429.
func (a *API) token(w http.ResponseWriter, r *http.Request) error {
	if a.auth == nil {
		return event.Internal("token", errors.New("POST /token is served without an Authenticator"))
	}
	kind := requestMedia(r)
	if kind == mediaOther {
		return unsupportedMedia(w, r, tokenMediaTypes, "application/x-www-form-urlencoded, application/json")
	}
	body, err := readBody(w, r, tokenMaxBodyBytes)
	if err != nil {
		return err
	}
	var apiKey string
	if kind == mediaForm {
		apiKey, err = tokenForm(body)
	} else {
		apiKey, err = tokenJSON(body)
	}
	if err != nil {
		return err
	}

	ctx := r.Context()
	client := clientKey(r, a.trustedProxies)
	if a.limiter != nil {
		unlock := a.tokenLocks.lock(client)
		defer unlock()
		wait, err := a.limiter.Allow(ctx, client)
		if err != nil {
			// Fail closed: a limiter we cannot read must not turn into
			// unlimited guessing.
			return &event.Error{Code: event.CodeUnavailable, RetryAfterSeconds: 1,
				Message: "cannot check the attempt limit right now; retry later",
				Err:     fmt.Errorf("token: attempt limiter: %w", err)}
		}
		if wait > 0 {
			return &event.Error{Code: event.CodeRateLimited, RetryAfterSeconds: retryAfterSeconds(wait),
				Message: "too many failed attempts from this address; retry after the Retry-After delay"}
		}
	}
	tok, err := a.auth.IssueToken(ctx, apiKey)
	if err != nil {
		if event.ErrorCode(err) == event.CodeUnauthorized && a.limiter != nil {
			if ferr := a.limiter.Failed(ctx, client); ferr != nil {
				a.log.WarnContext(ctx, "token: recording a failed attempt", "error", ferr.Error())
			}
		}
		return err
	}
	infoFrom(ctx).keyID = tok.Principal.KeyID
	w.Header().Set("Pragma", "no-cache") // RFC 6749 §5.1, for HTTP/1.0 caches
	return writeJSON(w, http.StatusOK, tokenResponse{AccessToken: tok.AccessToken, TokenType: "bearer", ExpiresIn: tok.ExpiresIn})
}

// tokenForm reads the OAuth2 password grant form. username is ignored (the
// seed's clients send "api"); grant_type, when sent, must be "password".
func tokenForm(body []byte) (string, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "", event.Errorf(CodeMalformedForm, "request body is not a valid application/x-www-form-urlencoded form")
	}
	var errs fieldErrors
	if gt, ok := form["grant_type"]; ok && (len(gt) != 1 || gt[0] != "password") {
		errs = append(errs, invalidIn("body", kindValue, "grant_type", `grant_type must be "password" when given`))
	}
	switch pw := form["password"]; {
	case len(pw) == 0 || pw[0] == "":
		errs = append(errs, invalidIn("body", kindMissing, "password", "password (the API key) is required"))
	case len(pw) > 1:
		errs = append(errs, invalidIn("body", kindValue, "password", "password is given more than once"))
	}
	if err := errs.orNil(); err != nil {
		return "", err
	}
	return form.Get("password"), nil
}

// tokenJSON reads {"api_key": "..."}.
func tokenJSON(body []byte) (string, error) {
	obj, err := decodeObject(body, "api_key")
	if err != nil {
		return "", err
	}
	key, ferr := obj.stringField("api_key")
	if ferr != nil {
		return "", ferr
	}
	if key == "" {
		return "", invalidIn("body", kindMissing, "api_key", "api_key is required")
	}
	return key, nil
}

// retryAfterSeconds rounds a wait up to whole seconds, at least one.
func retryAfterSeconds(d time.Duration) int {
	s := math.Ceil(d.Seconds())
	switch {
	case s < 1:
		return 1
	case s > math.MaxInt32:
		return math.MaxInt32
	}
	return int(s)
}

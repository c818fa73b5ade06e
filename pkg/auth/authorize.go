package auth

import (
	"context"
	"errors"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Reasons a token header is refused before its signature is checked. Their
// text is the client-safe message.
var (
	errNoKID      = errors.New("token has no kid")
	errUnknownKID = errors.New("unknown signing key")
	errTyp        = errors.New("token type is not JWT")
	errCrit       = errors.New("token has unsupported critical header parameters")
)

// Authorize verifies the raw value of an Authorization header
// ("Bearer <jwt>") and returns who is calling. It is the one check both the
// HTTP middleware and the Lambda authorizer run.
//
// It returns CodeUnauthorized, with a client-safe reason, for a header that
// is missing, too long, not Bearer, or malformed; for a token that is
// garbled, tampered, expired, not yet valid, issued in the future, signed
// with anything but HS256 (including "none"), signed by a kid the current
// credentials do not hold, for another issuer or audience, or missing sub,
// jti or iat; and when the API key it was issued from is revoked or gone.
// The principal's scopes are the token's scopes that its key still holds.
// It returns CodeUnavailable when the keyring fails.
func (a *Authenticator) Authorize(ctx context.Context, header string) (Principal, error) {
	raw, err := bearerToken(header)
	if err != nil {
		return Principal{}, err
	}
	ix, err := a.current(ctx)
	if err != nil {
		return Principal{}, err
	}
	var c tokenClaims
	tok, err := a.parser.ParseWithClaims(raw, &c, ix.verificationKey)
	if err != nil {
		return Principal{}, unauthorized(tokenErrorMessage(tok, err), err)
	}
	switch {
	case c.Subject == "":
		return Principal{}, unauthorized("token has no sub", nil)
	case c.ID == "":
		return Principal{}, unauthorized("token has no jti", nil)
	case c.IssuedAt == nil:
		return Principal{}, unauthorized("token has no iat", nil)
	}
	k := ix.byID[c.Subject]
	if k == nil {
		return Principal{}, unauthorized("api key no longer exists", nil)
	}
	if k.Revoked(a.now()) {
		return Principal{}, unauthorized("api key revoked", nil)
	}
	return Principal{
		Subject:   c.Subject,
		KeyID:     k.ID,
		KeyName:   k.Name,
		Scopes:    grantedScopes(c.Scope, k.Scopes),
		TokenID:   c.ID,
		ExpiresAt: c.ExpiresAt.UTC(),
	}, nil
}

// bearerToken extracts the token from "Bearer <token>": the scheme is
// case-insensitive (RFC 9110 §11.1), followed by exactly one space and a
// token of three base64url segments.
func bearerToken(header string) (string, error) {
	if len(header) > MaxHeaderBytes {
		return "", unauthorized("authorization header too long", nil)
	}
	if header == "" {
		return "", unauthorized("missing bearer token", nil)
	}
	scheme, tok, found := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", unauthorized("authorization scheme must be Bearer", nil)
	}
	if !found || tok == "" {
		return "", unauthorized("missing bearer token", nil)
	}
	if !jwtShaped(tok) {
		return "", unauthorized("malformed bearer token", nil)
	}
	return tok, nil
}

// jwtShaped reports whether s is three non-empty base64url segments.
func jwtShaped(s string) bool {
	dots, segLen := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if segLen == 0 {
				return false
			}
			dots, segLen = dots+1, 0
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
			segLen++
		default:
			return false
		}
	}
	return dots == 2 && segLen > 0
}

// verificationKey is the jwt.Keyfunc: it checks the header parameters this
// package cares about and returns the HMAC key named by kid in the current
// credentials. The library has already refused every alg but HS256.
func (ix *keyIndex) verificationKey(t *jwt.Token) (any, error) {
	if typ, _ := t.Header["typ"].(string); !strings.EqualFold(typ, "JWT") {
		return nil, errTyp
	}
	if _, ok := t.Header["crit"]; ok {
		return nil, errCrit // RFC 7515 §4.1.11: we understand no extensions
	}
	kid, ok := t.Header["kid"].(string)
	if !ok || kid == "" {
		return nil, errNoKID
	}
	key, ok := ix.creds.SigningKeys[kid]
	if !ok {
		return nil, errUnknownKID
	}
	return key, nil
}

// tokenErrorMessage turns a parse error into a client-safe reason.
func tokenErrorMessage(tok *jwt.Token, err error) string {
	for _, e := range []error{errNoKID, errUnknownKID, errTyp, errCrit} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "token malformed"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "token algorithm not accepted" // alg missing or unknown
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if tok != nil && tok.Method != nil && tok.Method.Alg() != jwt.SigningMethodHS256.Alg() {
			return "token algorithm not accepted"
		}
		return "token signature invalid"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "token issuer not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "token audience not accepted"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "token missing a required claim"
	default:
		return "token invalid"
	}
}

package apigw

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/triggershq/triggers/pkg/auth"
)

// The members of the authorizer's context, which API Gateway hands to every
// integration as requestContext.authorizer.lambda. Context values must be
// primitives (string, number, boolean), so scopes travel as one
// space-separated string, as in an OAuth 2.0 scope parameter.
const (
	ContextSubject = "sub"      // the token's subject: the API key id
	ContextKeyID   = "key_id"   // the API key id
	ContextKeyName = "key_name" // the API key's name, for logs
	ContextScopes  = "scopes"   // space-separated scopes
	ContextExpires = "exp"      // the token's expiry, Unix seconds
	ContextTokenID = "jti"      // the token's id
)

// authorizerContext is what the authorizer tells the integrations about an
// allowed caller. It holds no secret: the token itself never leaves the
// authorizer.
func authorizerContext(p auth.Principal) map[string]any {
	scopes := make([]string, len(p.Scopes))
	for i, s := range p.Scopes {
		scopes[i] = string(s)
	}
	m := map[string]any{
		ContextSubject: p.Subject,
		ContextKeyID:   p.KeyID,
		ContextKeyName: p.KeyName,
		ContextScopes:  strings.Join(scopes, " "),
		ContextTokenID: p.TokenID,
	}
	if !p.ExpiresAt.IsZero() {
		m[ContextExpires] = p.ExpiresAt.Unix()
	}
	return m
}

// errNoPrincipal means the authorizer context does not describe a caller,
// which only a miswired deployment can produce.
var errNoPrincipal = errors.New("authorizer context has no subject")

// principalFromContext decodes what authorizerContext wrote, as API Gateway
// delivers it (numbers arrive as float64).
func principalFromContext(m map[string]any) (auth.Principal, error) {
	var p auth.Principal
	var err error
	str := func(key string) string {
		if err != nil {
			return ""
		}
		switch v := m[key].(type) {
		case nil:
			return ""
		case string:
			return v
		default:
			err = fmt.Errorf("authorizer context member %q is a %T, want a string", key, v)
			return ""
		}
	}
	p.Subject = str(ContextSubject)
	p.KeyID = str(ContextKeyID)
	p.KeyName = str(ContextKeyName)
	p.TokenID = str(ContextTokenID)
	scopes := str(ContextScopes)
	if err != nil {
		return auth.Principal{}, err
	}
	if p.Subject == "" {
		return auth.Principal{}, errNoPrincipal
	}
	if p.KeyID == "" {
		p.KeyID = p.Subject
	}
	for _, s := range strings.Fields(scopes) {
		p.Scopes = append(p.Scopes, auth.Scope(s))
	}
	if v, ok := m[ContextExpires]; ok && v != nil {
		secs, err := unixSeconds(v)
		if err != nil {
			return auth.Principal{}, fmt.Errorf("authorizer context member %q: %w", ContextExpires, err)
		}
		p.ExpiresAt = time.Unix(secs, 0).UTC()
	}
	return p, nil
}

func unixSeconds(v any) (int64, error) {
	switch n := v.(type) {
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, fmt.Errorf("%v is not a whole number of seconds", n)
		}
		return int64(n), nil
	case int64:
		return n, nil
	case int:
		return int64(n), nil
	case json.Number:
		return n.Int64()
	case string:
		return strconv.ParseInt(n, 10, 64)
	}
	return 0, fmt.Errorf("a %T, want a number", v)
}

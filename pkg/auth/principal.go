package auth

import (
	"context"
	"slices"
	"time"
)

// Scope is one permission a key (and the tokens issued from it) may carry.
type Scope string

// The scopes. A key with every scope can do everything the API offers.
const (
	ScopeEventsWrite         Scope = "events:write"
	ScopeInboxRead           Scope = "inbox:read"
	ScopeInboxAck            Scope = "inbox:ack"
	ScopeSubscriptionsManage Scope = "subscriptions:manage"
)

// AllScopes returns every scope, in a stable order.
func AllScopes() []Scope {
	return []Scope{ScopeEventsWrite, ScopeInboxRead, ScopeInboxAck, ScopeSubscriptionsManage}
}

// Principal is who is calling, as established from a verified token.
type Principal struct {
	Subject   string  // the token's sub: the id of the API key it was issued from
	KeyID     string  // the API key id (equal to Subject)
	KeyName   string  // the API key's human name, for logs
	Scopes    []Scope // what the token allows
	TokenID   string  // the token's jti
	ExpiresAt time.Time
}

// Has reports whether the principal carries scope s.
func (p Principal) Has(s Scope) bool { return slices.Contains(p.Scopes, s) }

type principalKey struct{}

// WithPrincipal returns a context carrying p. Only code that has verified
// the caller (the auth middleware, or the API Gateway adapter reading the
// Lambda authorizer's context) may call it.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal stored by WithPrincipal.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

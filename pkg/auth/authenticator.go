package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/triggershq/triggers/pkg/event"
)

// Keyring supplies the current credentials. Implementations cache and may
// reload; they must be safe for concurrent use. Return the same
// *Credentials for as long as the document is unchanged: the Authenticator
// validates and indexes each new pointer once, and never modifies it.
type Keyring interface {
	Credentials(ctx context.Context) (*Credentials, error)
}

// KeyringFunc adapts a function to the Keyring interface.
type KeyringFunc func(ctx context.Context) (*Credentials, error)

// Credentials calls f.
func (f KeyringFunc) Credentials(ctx context.Context) (*Credentials, error) { return f(ctx) }

// StaticKeyring returns a Keyring that always serves c, for tests and for
// callers that load credentials once.
func StaticKeyring(c *Credentials) Keyring {
	return KeyringFunc(func(context.Context) (*Credentials, error) { return c, nil })
}

// Defaults for Config.
const (
	DefaultIssuer   = "triggers"
	DefaultAudience = "triggers-api"
	DefaultTokenTTL = 24 * time.Hour
	// Leeway is the clock skew tolerated on exp, nbf and iat.
	Leeway = 30 * time.Second
	// MaxHeaderBytes bounds the Authorization header Authorize will parse.
	MaxHeaderBytes = 8 << 10
	maxTokenTTL    = 30 * 24 * time.Hour
)

// Config configures an Authenticator. Only Keyring is required.
type Config struct {
	Keyring  Keyring
	Issuer   string        // the iss claim; default "triggers"
	Audience string        // the aud claim; default "triggers-api"
	TokenTTL time.Duration // lifetime of issued tokens, whole seconds, 1s to 30 days; default 24h
	Now      func() time.Time
	// MaxConcurrentHashes bounds how many argon2id verifications (19 MiB
	// each) run at once, so a flood of token requests cannot exhaust
	// memory; default 2*GOMAXPROCS.
	MaxConcurrentHashes int
}

// Authenticator issues tokens for API keys and authorizes bearer tokens. It
// is safe for concurrent use; create one per process.
type Authenticator struct {
	keyring  Keyring
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
	sem      chan struct{}
	parser   *jwt.Parser
	index    atomic.Pointer[keyIndex]
}

// New returns an Authenticator for cfg.
func New(cfg Config) (*Authenticator, error) {
	if cfg.Keyring == nil {
		return nil, errors.New("auth: Config.Keyring is required")
	}
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = DefaultAudience
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	cfg.TokenTTL = cfg.TokenTTL.Truncate(time.Second) // exp has second precision
	if cfg.TokenTTL < time.Second || cfg.TokenTTL > maxTokenTTL {
		return nil, fmt.Errorf("auth: TokenTTL %v outside [1s, %v]", cfg.TokenTTL, maxTokenTTL)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxConcurrentHashes <= 0 {
		cfg.MaxConcurrentHashes = 2 * runtime.GOMAXPROCS(0)
	}
	a := &Authenticator{
		keyring:  cfg.Keyring,
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		ttl:      cfg.TokenTTL,
		now:      cfg.Now,
		sem:      make(chan struct{}, cfg.MaxConcurrentHashes),
	}
	a.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithStrictDecoding(), // one spelling per token: no malleable base64
	)
	return a, nil
}

// Token is an issued access token.
type Token struct {
	AccessToken string // the signed JWT; a secret
	ExpiresIn   int64  // seconds from issue to expiry
	ExpiresAt   time.Time
	Principal   Principal
}

// tokenClaims are the claims Triggers puts in and expects from a token.
type tokenClaims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope,omitempty"` // space-delimited, as in RFC 9068
}

// IssueToken verifies an API key and returns a signed token carrying the
// key's scopes. It returns CodeUnauthorized for a missing, wrong, unknown or
// revoked key (all with the same message), and CodeUnavailable when the
// keyring cannot be read or ctx ends while waiting for a hashing slot.
func (a *Authenticator) IssueToken(ctx context.Context, apiKey string) (Token, error) {
	if apiKey == "" {
		return Token{}, unauthorized("missing api key", nil)
	}
	if len(apiKey) > maxPlaintext {
		return Token{}, unauthorized(msgInvalidKey, fmt.Errorf("api key longer than %d bytes", maxPlaintext))
	}
	ix, err := a.current(ctx)
	if err != nil {
		return Token{}, err
	}
	key, err := a.verifyKey(ctx, ix, apiKey)
	if err != nil {
		return Token{}, err
	}
	return a.sign(ix.creds, key)
}

const msgInvalidKey = "invalid api key"

// verifyKey finds the key apiKey claims to be and checks its hash. Every
// path runs at least one argon2id verification, so response time does not
// tell which key ids exist.
func (a *Authenticator) verifyKey(ctx context.Context, ix *keyIndex, apiKey string) (*APIKey, error) {
	now := a.now()
	id, prefixed := splitPresentedKey(apiKey)
	if !prefixed {
		return a.verifyLegacy(ctx, ix, apiKey, now)
	}
	k := ix.byID[id]
	if k == nil || k.Legacy {
		if _, err := a.hashCheck(ctx, dummy, apiKey); err != nil {
			return nil, err
		}
		return nil, unauthorized(msgInvalidKey, fmt.Errorf("unknown api key id %q", id))
	}
	ok, err := a.hashCheck(ctx, ix.hashes[k.ID], apiKey)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, unauthorized(msgInvalidKey, fmt.Errorf("wrong secret for api key %q", id))
	}
	if k.Revoked(now) {
		return nil, unauthorized(msgInvalidKey, fmt.Errorf("api key %q is revoked", id))
	}
	return k, nil
}

// verifyLegacy checks an unprefixed key against every legacy key.
func (a *Authenticator) verifyLegacy(ctx context.Context, ix *keyIndex, apiKey string, now time.Time) (*APIKey, error) {
	if len(ix.legacy) == 0 {
		if _, err := a.hashCheck(ctx, dummy, apiKey); err != nil {
			return nil, err
		}
		return nil, unauthorized(msgInvalidKey, errors.New("unprefixed api key and no legacy keys"))
	}
	revoked := false
	for _, k := range ix.legacy {
		ok, err := a.hashCheck(ctx, ix.hashes[k.ID], apiKey)
		if err != nil {
			return nil, err
		}
		if ok && !k.Revoked(now) {
			return k, nil
		}
		revoked = revoked || ok
	}
	if revoked {
		return nil, unauthorized(msgInvalidKey, errors.New("legacy api key is revoked"))
	}
	return nil, unauthorized(msgInvalidKey, errors.New("unprefixed api key matches no legacy key"))
}

// hashCheck runs one argon2id verification once a slot is free.
func (a *Authenticator) hashCheck(ctx context.Context, p phc, plaintext string) (bool, error) {
	busy := func() error {
		return &event.Error{Code: event.CodeUnavailable, Message: "too many concurrent token requests",
			RetryAfterSeconds: 1, Err: fmt.Errorf("wait for hashing slot: %w", ctx.Err())}
	}
	if ctx.Err() != nil { // select would pick a free slot half the time
		return false, busy()
	}
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return false, busy()
	}
	defer func() { <-a.sem }()
	return p.verify(plaintext), nil
}

func (a *Authenticator) sign(creds *Credentials, k *APIKey) (Token, error) {
	now := a.now().Truncate(time.Second) // NumericDate has second precision
	exp := now.Add(a.ttl)
	claims := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    a.issuer,
			Subject:   k.ID,
			Audience:  jwt.ClaimStrings{a.audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        rand.Text(),
		},
		Scope: scopeList(k.Scopes),
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	t.Header["kid"] = creds.ActiveKID
	signed, err := t.SignedString(creds.SigningKeys[creds.ActiveKID])
	if err != nil {
		return Token{}, event.Internal("sign token", err)
	}
	return Token{
		AccessToken: signed,
		ExpiresIn:   int64(a.ttl / time.Second),
		ExpiresAt:   exp.UTC(),
		Principal: Principal{
			Subject:   k.ID,
			KeyID:     k.ID,
			KeyName:   k.Name,
			Scopes:    grantedScopes(claims.Scope, k.Scopes),
			TokenID:   claims.ID,
			ExpiresAt: exp.UTC(),
		},
	}, nil
}

// keyIndex is a validated Credentials with lookups prepared. It is built once
// per *Credentials the keyring returns.
type keyIndex struct {
	creds  *Credentials
	byID   map[string]*APIKey
	legacy []*APIKey
	hashes map[string]phc // parsed once, by key id
}

// current returns the index of the keyring's current credentials.
func (a *Authenticator) current(ctx context.Context) (*keyIndex, error) {
	creds, err := a.keyring.Credentials(ctx)
	if err == nil && creds == nil {
		err = errors.New("keyring returned no credentials")
	}
	if err != nil {
		return nil, unavailable(err)
	}
	if ix := a.index.Load(); ix != nil && ix.creds == creds {
		return ix, nil
	}
	ix, err := newKeyIndex(creds)
	if err != nil {
		return nil, unavailable(err)
	}
	a.index.Store(ix)
	return ix, nil
}

func newKeyIndex(c *Credentials) (*keyIndex, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	ix := &keyIndex{creds: c, byID: make(map[string]*APIKey, len(c.APIKeys)), hashes: make(map[string]phc, len(c.APIKeys))}
	for i := range c.APIKeys {
		k := &c.APIKeys[i]
		p, err := parsePHC(k.Hash)
		if err != nil { // Validate has parsed it already
			return nil, fmt.Errorf("api key %q: %w", k.ID, err)
		}
		ix.byID[k.ID], ix.hashes[k.ID] = k, p
		if k.Legacy {
			ix.legacy = append(ix.legacy, k)
		}
	}
	return ix, nil
}

// dummyPHC is the hash an unknown key id is checked against, so that a
// request for a missing id costs as much as one for an existing id. Nobody
// knows its plaintext (a random string that was thrown away).
const dummyPHC = "$argon2id$v=19$m=19456,t=2,p=1$YoTh9mqzvMOCXnW2eNANUw$3oNc2b+PbMFXCCpM8O++jOnKqqfQS7XeVWKi2t/S6Xc"

var dummy = mustParsePHC(dummyPHC)

func mustParsePHC(s string) phc {
	p, err := parsePHC(s)
	if err != nil {
		panic(err) // a constant; covered by every test run
	}
	return p
}

func unauthorized(msg string, cause error) *event.Error {
	return &event.Error{Code: event.CodeUnauthorized, Message: msg, Err: cause}
}

// unavailable reports a keyring failure, keeping a retry hint the keyring
// gave (a Secrets Manager keyring may know when to retry).
func unavailable(cause error) *event.Error {
	retry := 1
	var e *event.Error
	if errors.As(cause, &e) && e.RetryAfterSeconds > 0 {
		retry = e.RetryAfterSeconds
	}
	return &event.Error{Code: event.CodeUnavailable, Message: "credentials unavailable",
		RetryAfterSeconds: retry, Err: fmt.Errorf("read credentials: %w", cause)}
}

package httpapi_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/auth"
)

// Key names of the shared fixture, each an API key with these scopes.
const (
	keyFull  = "full"  // every scope
	keyWrite = "write" // events:write
	keyRead  = "read"  // inbox:read
	keyAck   = "ack"   // inbox:ack
	keySubs  = "subs"  // subscriptions:manage only: a valid token for none of today's scoped routes
)

var fixtureScopes = map[string][]auth.Scope{
	keyFull:  auth.AllScopes(),
	keyWrite: {auth.ScopeEventsWrite},
	keyRead:  {auth.ScopeInboxRead},
	keyAck:   {auth.ScopeInboxAck},
	keySubs:  {auth.ScopeSubscriptionsManage},
}

// sharedCreds is made once per test binary: argon2id hashing is slow on
// purpose, and the keys are only ever read.
type sharedCreds struct {
	creds  *auth.Credentials
	plain  map[string]string // key name -> plaintext API key
	ids    map[string]string // key name -> key id
	tokens map[string]string // key name -> bearer token issued at fixtureStart
}

var fixtureStart = newClock().Now()

var (
	credsOnce sync.Once
	credsVal  *sharedCreds
	credsErr  error
)

func loadSharedCreds(t testing.TB) *sharedCreds {
	t.Helper()
	credsOnce.Do(func() {
		creds, err := auth.NewCredentials(fixtureStart)
		if err != nil {
			credsErr = err
			return
		}
		s := &sharedCreds{creds: creds, plain: map[string]string{}, ids: map[string]string{}, tokens: map[string]string{}}
		for name, scopes := range fixtureScopes {
			plain, key, err := auth.GenerateAPIKey(name, scopes, fixtureStart)
			if err != nil {
				credsErr = err
				return
			}
			creds.APIKeys = append(creds.APIKeys, key)
			s.plain[name], s.ids[name] = plain, key.ID
		}
		a, err := auth.New(auth.Config{Keyring: auth.StaticKeyring(creds), Now: func() time.Time { return fixtureStart }})
		if err != nil {
			credsErr = err
			return
		}
		for name := range fixtureScopes {
			tok, err := a.IssueToken(context.Background(), s.plain[name])
			if err != nil {
				credsErr = err
				return
			}
			s.tokens[name] = tok.AccessToken
		}
		credsVal = s
	})
	if credsErr != nil {
		t.Fatalf("auth fixture: %v", credsErr)
	}
	return credsVal
}

// authFixture is one env's Authenticator and limiter over the shared keys.
type authFixture struct {
	*sharedCreds
	authenticator *auth.Authenticator
	limiter       *auth.MemoryLimiter
}

func newAuthFixture(t testing.TB, c *clock) *authFixture {
	t.Helper()
	s := loadSharedCreds(t)
	// Each env has its own credentials file holding the shared keys, read
	// through the single binary's FileKeyring.
	path := filepath.Join(t.TempDir(), "credentials.json")
	if err := auth.UpdateCredentialsFile(path, func(f *auth.Credentials) error { *f = *s.creds.Clone(); return nil }); err != nil {
		t.Fatalf("write credentials: %v", err)
	}
	keyring, err := auth.OpenFileKeyring(path, auth.FileKeyringOptions{Now: c.Now})
	if err != nil {
		t.Fatalf("open keyring: %v", err)
	}
	a, err := auth.New(auth.Config{Keyring: keyring, Now: c.Now})
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	return &authFixture{
		sharedCreds:   s,
		authenticator: a,
		limiter:       auth.NewMemoryLimiter(auth.LimiterConfig{MaxFailures: 3, Window: time.Minute, Now: c.Now}),
	}
}

// token returns the bearer token of a fixture key.
func (e *env) token(name string) string {
	e.t.Helper()
	tok, ok := e.auth.tokens[name]
	if !ok {
		e.t.Fatalf("no fixture key %q", name)
	}
	return tok
}

// issue gets a fresh token for a fixture key at the env's current time.
func (e *env) issue(name string) string {
	e.t.Helper()
	tok, err := e.auth.authenticator.IssueToken(context.Background(), e.auth.plain[name])
	if err != nil {
		e.t.Fatalf("issue token for %s: %v", name, err)
	}
	return tok.AccessToken
}

package auth_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/event"
)

// t0 is the fixed "now" of every test.
var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// clock is an injectable clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// keyring is a Keyring whose document a test can swap while it runs.
type keyring struct {
	creds atomic.Pointer[auth.Credentials]
	err   atomic.Pointer[error]
}

func (k *keyring) Credentials(context.Context) (*auth.Credentials, error) {
	if err := k.err.Load(); err != nil {
		return nil, *err
	}
	return k.creds.Load(), nil
}

// update applies fn to a copy of the current document and serves the copy.
func (k *keyring) update(t testing.TB, fn func(*auth.Credentials) error) {
	t.Helper()
	c := k.creds.Load().Clone()
	if err := fn(c); err != nil {
		t.Fatalf("update credentials: %v", err)
	}
	k.creds.Store(c)
}

// keySet holds API keys generated once per test binary: argon2id is slow
// on purpose, more so under the race detector.
type keySet struct {
	creds  *auth.Credentials // signing key "k1", keys below
	plain  map[string]string // name -> plaintext
	ids    map[string]string // name -> id
	legacy string            // plaintext of the legacy key "env"
}

var keys = sync.OnceValue(func() keySet {
	ks := keySet{plain: map[string]string{}, ids: map[string]string{}}
	ks.creds = &auth.Credentials{
		ActiveKID:   "k1",
		SigningKeys: map[string][]byte{"k1": []byte("k1-secret-0123456789abcdefghijklmnopqrstuvwxyz")},
	}
	for _, spec := range []struct {
		name   string
		scopes []auth.Scope
	}{
		{"full", auth.AllScopes()},
		{"reader", []auth.Scope{auth.ScopeInboxRead}},
		{"producer", []auth.Scope{auth.ScopeEventsWrite}},
	} {
		plain, key, err := auth.GenerateAPIKey(spec.name, spec.scopes, t0)
		if err != nil {
			panic(err)
		}
		ks.plain[spec.name], ks.ids[spec.name] = plain, key.ID
		ks.creds.APIKeys = append(ks.creds.APIKeys, key)
	}
	ks.legacy = "legacy-operator-key-0123456789"
	lk, err := auth.NewLegacyKey("env", "TRIGGERS_API_KEY", ks.legacy, auth.AllScopes(), t0)
	if err != nil {
		panic(err)
	}
	ks.creds.APIKeys = append(ks.creds.APIKeys, lk)
	if err := ks.creds.Validate(); err != nil {
		panic(err)
	}
	return ks
})

// A key pair fixed in the source, for fuzz targets: fuzzing workers are
// separate processes and must agree on their seeds.
const (
	fixedID    = "0123456789ab"
	fixedPlain = "trg_0123456789ab_SECRET"
	fixedPHC   = "$argon2id$v=19$m=19456,t=2,p=1$MfOi8ei/cCdc1P4T+hLjOA$xJny0cyU4t/Ajc0+da5Du0/ktzRRqahgs45QuzrXm3M"
)

// fixedSetup is setup over a document holding only the fixed key.
func fixedSetup(t testing.TB) *bundle {
	t.Helper()
	b := &bundle{kr: &keyring{}, clock: newClock()}
	b.keys.creds = &auth.Credentials{
		ActiveKID:   "k1",
		SigningKeys: map[string][]byte{"k1": []byte("k1-secret-0123456789abcdefghijklmnopqrstuvwxyz")},
		APIKeys:     []auth.APIKey{{ID: fixedID, Name: "fixed", Hash: fixedPHC, Scopes: auth.AllScopes(), CreatedAt: t0}},
	}
	b.keys.plain = map[string]string{"fixed": fixedPlain}
	b.keys.ids = map[string]string{"fixed": fixedID}
	b.kr.creds.Store(b.keys.creds)
	var err error
	b.authn, err = auth.New(auth.Config{Keyring: b.kr, Now: b.clock.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

// bundle is what most tests need: an Authenticator over a swappable
// keyring with a controllable clock.
type bundle struct {
	keys  keySet
	kr    *keyring
	clock *clock
	authn *auth.Authenticator
}

func setup(t testing.TB) *bundle {
	t.Helper()
	b := &bundle{keys: keys(), kr: &keyring{}, clock: newClock()}
	b.kr.creds.Store(b.keys.creds.Clone())
	var err error
	b.authn, err = auth.New(auth.Config{Keyring: b.kr, Now: b.clock.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

// issue returns a token for the named key.
func (b *bundle) issue(t testing.TB, name string) auth.Token {
	t.Helper()
	tok, err := b.authn.IssueToken(context.Background(), b.keys.plain[name])
	if err != nil {
		t.Fatalf("IssueToken(%s): %v", name, err)
	}
	return tok
}

// forge builds a JWT by hand from header and claims, signed with HMAC-SHA256
// under key (whatever alg the header claims).
func forge(t testing.TB, header, claims map[string]any, key []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// goodClaims returns the claims IssueToken would make for key id at now.
func goodClaims(id string, now time.Time) map[string]any {
	return map[string]any{
		"iss": "triggers", "aud": []string{"triggers-api"}, "sub": id,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"jti": "jti-1", "scope": "events:write inbox:read inbox:ack subscriptions:manage",
	}
}

func goodHeader(kid string) map[string]any {
	return map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}
}

// wantCode checks err is an *event.Error with the code and, if msg is not
// empty, the message.
func wantCode(t testing.TB, err error, code event.Code, msg string) *event.Error {
	t.Helper()
	var e *event.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want *event.Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("got code %s (%v), want %s", e.Code, err, code)
	}
	if msg != "" && e.Message != msg {
		t.Fatalf("got message %q, want %q (%v)", e.Message, msg, err)
	}
	return e
}

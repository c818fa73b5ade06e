package secrets_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/triggershq/triggers/internal/testenv"
	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/secrets"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// clock is a settable, concurrency-safe time source.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// countingHTTP counts the GetSecretValue calls that reach moto.
type countingHTTP struct {
	gets atomic.Int64
	next *http.Client
}

func (c *countingHTTP) Do(r *http.Request) (*http.Response, error) {
	if r.Header.Get("X-Amz-Target") == "secretsmanager.GetSecretValue" {
		c.gets.Add(1)
	}
	return c.next.Do(r)
}

// bundle is one test's secret in moto and a client for it.
type bundle struct {
	client   *secretsmanager.Client
	http     *countingHTTP
	secretID string
	clock    *clock
	logs     *testenv.LockedBuffer
}

func setup(t *testing.T) *bundle {
	t.Helper()
	moto := testenv.StartMoto(t)
	b := &bundle{http: &countingHTTP{next: &http.Client{Timeout: 10 * time.Second}}, clock: &clock{}, logs: &testenv.LockedBuffer{}}
	b.clock.Set(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
	b.client = secretsmanager.New(secretsmanager.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(moto.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   b.http,
	})
	b.secretID = "triggers-test-" + strings.ToLower(rand.Text()[:10])
	return b
}

func (b *bundle) create(t *testing.T, doc string) {
	t.Helper()
	_, err := b.client.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(b.secretID), SecretString: aws.String(doc),
	})
	if err != nil {
		t.Fatalf("create secret: %v", err)
	}
}

func (b *bundle) put(t *testing.T, doc string) {
	t.Helper()
	_, err := b.client.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(b.secretID), SecretString: aws.String(doc),
	})
	if err != nil {
		t.Fatalf("put secret value: %v", err)
	}
}

func (b *bundle) keyring(t *testing.T, client secrets.API, opts secrets.Options) *secrets.Keyring {
	t.Helper()
	if opts.Now == nil {
		opts.Now = b.clock.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(b.logs, nil))
	}
	k, err := secrets.New(client, b.secretID, opts)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixture is a credentials document with two API keys.
type fixture struct {
	creds      *auth.Credentials
	keyA, keyB string // plaintexts
	idA, idB   string
}

var (
	fixtureOnce sync.Once
	shared      fixture
)

// newFixture returns a fresh copy of a document made once per test binary
// (argon2id hashing is slow on purpose).
func newFixture(t *testing.T) fixture {
	t.Helper()
	fixtureOnce.Do(func() {
		now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
		c, err := auth.NewCredentials(now)
		if err != nil {
			t.Fatal(err)
		}
		a, ka, err := auth.GenerateAPIKey("zapier-prod", auth.AllScopes(), now)
		if err != nil {
			t.Fatal(err)
		}
		bb, kb, err := auth.GenerateAPIKey("old-integration", []auth.Scope{auth.ScopeInboxRead}, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddAPIKey(ka); err != nil {
			t.Fatal(err)
		}
		if err := c.AddAPIKey(kb); err != nil {
			t.Fatal(err)
		}
		shared = fixture{creds: c, keyA: a, keyB: bb, idA: ka.ID, idB: kb.ID}
	})
	f := shared
	f.creds = shared.creds.Clone()
	return f
}

func marshal(t *testing.T, c *auth.Credentials) string {
	t.Helper()
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestLoad(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newFixture(t)
	b.create(t, marshal(t, f.creds))
	k := b.keyring(t, b.client, secrets.Options{})
	got, err := k.Credentials(context.Background())
	if err != nil {
		t.Fatalf("Credentials: %v", err)
	}
	if got.ActiveKID != f.creds.ActiveKID || len(got.APIKeys) != 2 || got.APIKeys[0].ID != f.idA {
		t.Errorf("credentials: got kid %q and %d keys, want kid %q and 2 keys", got.ActiveKID, len(got.APIKeys), f.creds.ActiveKID)
	}
	if string(got.SigningKeys[got.ActiveKID]) != string(f.creds.SigningKeys[f.creds.ActiveKID]) {
		t.Error("signing key: got a different key than stored")
	}
	assertNoSecrets(t, b.logs.String(), f)
}

func TestCachedWithinTTL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newFixture(t)
	b.create(t, marshal(t, f.creds))
	k := b.keyring(t, b.client, secrets.Options{TTL: 5 * time.Minute})
	ctx := context.Background()
	first, err := k.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		b.clock.Advance(14 * time.Second) // 280 s in all: still within the TTL
		got, err := k.Credentials(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != first {
			t.Fatal("within the TTL: got a different *Credentials, want the cached one")
		}
	}
	if n := b.http.gets.Load(); n != 1 {
		t.Errorf("GetSecretValue calls within the TTL: got %d, want 1", n)
	}

	b.clock.Advance(30 * time.Second) // past the TTL
	again, err := k.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := b.http.gets.Load(); n != 2 {
		t.Errorf("GetSecretValue calls after the TTL: got %d, want 2", n)
	}
	if again != first {
		t.Error("unchanged version: got a new *Credentials, want the same (the Authenticator indexes each new pointer)")
	}
}

func TestRotationWhileRunning(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newFixture(t)
	b.create(t, marshal(t, f.creds))
	k := b.keyring(t, b.client, secrets.Options{TTL: time.Minute})
	authn, err := auth.New(auth.Config{Keyring: k, Now: b.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	oldA, err := authn.IssueToken(ctx, f.keyA) // signed by the first kid
	if err != nil {
		t.Fatal(err)
	}
	tokB, err := authn.IssueToken(ctx, f.keyB)
	if err != nil {
		t.Fatal(err)
	}
	oldKID := f.creds.ActiveKID

	// The operator rotates the signing key and revokes key B.
	rotated := f.creds.Clone()
	newKID, err := rotated.RotateSigningKey(b.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := rotated.RevokeAPIKey(f.idB, b.clock.Now()); err != nil {
		t.Fatal(err)
	}
	b.put(t, marshal(t, rotated))

	// Within the TTL the cached document still rules.
	if _, err := authn.Authorize(ctx, "Bearer "+tokB.AccessToken); err != nil {
		t.Errorf("before the TTL: B's token got %v, want it still accepted from the cache", err)
	}

	b.clock.Advance(time.Minute + time.Second)
	if _, err := authn.Authorize(ctx, "Bearer "+oldA.AccessToken); err != nil {
		t.Errorf("after rotation: a token signed by the old kid got %v, want it to verify", err)
	}
	if _, err := authn.Authorize(ctx, "Bearer "+tokB.AccessToken); event.ErrorCode(err) != event.CodeUnauthorized {
		t.Errorf("after revocation: B's token got %v, want unauthorized", err)
	}
	if _, err := authn.IssueToken(ctx, f.keyB); event.ErrorCode(err) != event.CodeUnauthorized {
		t.Errorf("after revocation: B's key got %v, want unauthorized", err)
	}
	newA, err := authn.IssueToken(ctx, f.keyA)
	if err != nil {
		t.Fatal(err)
	}
	if kid := tokenKID(t, newA.AccessToken); kid != newKID || kid == oldKID {
		t.Errorf("new token's kid: got %q, want the rotated %q", kid, newKID)
	}
	if !strings.Contains(b.logs.String(), `"rotated":true`) {
		t.Errorf("log: want a line saying the credentials were rotated, got %s", b.logs.String())
	}
	assertNoSecrets(t, b.logs.String(), f)
	for _, key := range rotated.SigningKeys {
		if strings.Contains(b.logs.String(), string(key)) {
			t.Error("log contains a signing key")
		}
	}
}

func tokenKID(t *testing.T, tok string) string {
	t.Helper()
	header, _, _ := strings.Cut(tok, ".")
	data, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(data, &h); err != nil {
		t.Fatal(err)
	}
	return h.KID
}

func TestInvalidDocumentKeepsLastGood(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newFixture(t)
	b.create(t, marshal(t, f.creds))
	k := b.keyring(t, b.client, secrets.Options{TTL: time.Minute, RetryInterval: 10 * time.Second})
	ctx := context.Background()
	good, err := k.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}

	bad := f.creds.Clone()
	bad.ActiveKID = "missing" // no jwt_key_missing member: Validate rejects it
	for _, doc := range []string{`{"active_kid": "x", "jwt_key_x": "` + f.keyA + `"`, marshal(t, bad), `[]`} {
		b.put(t, doc)
		b.clock.Advance(time.Minute + time.Second)
		got, err := k.Credentials(ctx)
		if err != nil {
			t.Fatalf("after an invalid version: got %v, want the last good credentials", err)
		}
		if got != good {
			t.Fatal("after an invalid version: got other credentials, want the last good ones")
		}
	}
	logs := b.logs.String()
	if !strings.Contains(logs, "rejected") || !strings.Contains(logs, "keeping the last good credentials") {
		t.Errorf("log: want the rejection explained, got %s", logs)
	}
	assertNoSecrets(t, logs, f)

	// A valid version is picked up at the next attempt.
	fixed := f.creds.Clone()
	if _, err := fixed.RotateSigningKey(b.clock.Now()); err != nil {
		t.Fatal(err)
	}
	b.put(t, marshal(t, fixed))
	b.clock.Advance(11 * time.Second)
	got, err := k.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.ActiveKID != fixed.ActiveKID {
		t.Errorf("after a valid version: got kid %q, want %q", got.ActiveKID, fixed.ActiveKID)
	}
}

func TestMissingSecretIsUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	k := b.keyring(t, b.client, secrets.Options{})
	_, err := k.Credentials(context.Background())
	var e *event.Error
	if !errors.As(err, &e) || e.Code != event.CodeUnavailable || e.RetryAfterSeconds < 1 {
		t.Fatalf("got %v, want CodeUnavailable with a retry hint", err)
	}
	if !strings.Contains(err.Error(), "ResourceNotFound") {
		t.Errorf("error: got %q, want the cause (for the log)", err)
	}
	// Behind an Authenticator it is a 503, not a 401.
	authn, _ := auth.New(auth.Config{Keyring: k, Now: b.clock.Now})
	if _, err := authn.Authorize(context.Background(), "Bearer a.b.c"); event.ErrorCode(err) != event.CodeUnavailable {
		t.Errorf("Authorize: got %v, want unavailable", err)
	}
}

func TestEmptyDocumentNeverLoadedIsUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.create(t, `{"active_kid":"initial","api_keys":[]}`) // a template without its generated key
	k := b.keyring(t, b.client, secrets.Options{})
	if _, err := k.Credentials(context.Background()); event.ErrorCode(err) != event.CodeUnavailable {
		t.Fatalf("got %v, want CodeUnavailable", err)
	}
}

// flaky wraps the real client: it fails while fail is set, and can block a
// call until released, to observe what concurrent callers get.
type flaky struct {
	next     secrets.API
	fail     atomic.Bool
	block    chan struct{} // when non-nil, calls wait on it
	inflight atomic.Int64
	maxSeen  atomic.Int64
}

func (f *flaky) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		m := f.maxSeen.Load()
		if n <= m || f.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	if f.block != nil {
		<-f.block
	}
	if f.fail.Load() {
		return nil, errors.New("connection refused")
	}
	return f.next.GetSecretValue(ctx, in, opts...)
}

func TestStaleServedWithinGraceThenUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newFixture(t)
	b.create(t, marshal(t, f.creds))
	fl := &flaky{next: b.client}
	k := b.keyring(t, fl, secrets.Options{TTL: time.Minute, Grace: 10 * time.Minute, RetryInterval: 5 * time.Second})
	ctx := context.Background()
	good, err := k.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fl.fail.Store(true)
	b.clock.Advance(time.Minute + time.Second)
	for range 5 {
		got, err := k.Credentials(ctx)
		if err != nil || got != good {
			t.Fatalf("within the grace: got %v, want the stale credentials", err)
		}
	}
	b.clock.Advance(10 * time.Minute)
	if _, err := k.Credentials(ctx); event.ErrorCode(err) != event.CodeUnavailable {
		t.Fatalf("past the grace: got %v, want CodeUnavailable", err)
	}
	fl.fail.Store(false)
	b.clock.Advance(6 * time.Second) // past the retry interval
	if got, err := k.Credentials(ctx); err != nil || got != good {
		t.Fatalf("after recovery: got %v, want the credentials again", err)
	}
}

func TestOneRefreshAtATime(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newFixture(t)
	b.create(t, marshal(t, f.creds))
	fl := &flaky{next: b.client}
	k := b.keyring(t, fl, secrets.Options{TTL: time.Minute})
	ctx := context.Background()
	good, err := k.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}

	fl.block = make(chan struct{})
	b.clock.Advance(2 * time.Minute)
	refreshed := make(chan error, 1)
	go func() { _, err := k.Credentials(ctx); refreshed <- err }()
	for fl.inflight.Load() == 0 {
		time.Sleep(time.Millisecond) // wait until the refresh is under way
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := k.Credentials(ctx)
			if err != nil || got != good {
				t.Errorf("during a refresh: got %v, want the stale credentials at once", err)
			}
		}()
	}
	wg.Wait() // they returned while the refresh is still blocked
	close(fl.block)
	if err := <-refreshed; err != nil {
		t.Fatal(err)
	}
	if n := fl.maxSeen.Load(); n != 1 {
		t.Errorf("concurrent GetSecretValue calls: got %d, want 1", n)
	}
}

func TestFirstLoadIsShared(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newFixture(t)
	b.create(t, marshal(t, f.creds))
	fl := &flaky{next: b.client, block: make(chan struct{})}
	k := b.keyring(t, fl, secrets.Options{})
	ctx := context.Background()
	results := make(chan *auth.Credentials, 8)
	for range 8 {
		go func() {
			c, err := k.Credentials(ctx)
			if err != nil {
				t.Error(err)
			}
			results <- c
		}()
	}
	for fl.inflight.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(fl.block)
	first := <-results
	for range 7 {
		if c := <-results; c != first || c == nil {
			t.Error("first load: callers got different credentials")
		}
	}
	if n := b.http.gets.Load(); n != 1 {
		t.Errorf("GetSecretValue calls for 8 first callers: got %d, want 1", n)
	}
}

func TestNewRejectsMissingArguments(t *testing.T) {
	t.Parallel()
	if _, err := secrets.New(nil, "x", secrets.Options{}); err == nil {
		t.Error("nil client: got no error")
	}
	if _, err := secrets.New(&flaky{}, "", secrets.Options{}); err == nil {
		t.Error("empty secret id: got no error")
	}
}

// assertNoSecrets fails if a log shows an API key or a signing key.
func assertNoSecrets(t *testing.T, logs string, f fixture) {
	t.Helper()
	for _, s := range []string{f.keyA, f.keyB} {
		if strings.Contains(logs, s) {
			t.Error("log contains an API key")
		}
	}
	for _, key := range f.creds.SigningKeys {
		if strings.Contains(logs, string(key)) {
			t.Error("log contains a signing key")
		}
	}
	for _, k := range f.creds.APIKeys {
		if strings.Contains(logs, k.Hash) {
			t.Error("log contains an API key hash")
		}
	}
}

package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/event"
)

func TestIssueTokenShape(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.issue(t, "reader")
	if tok.ExpiresIn != 86400 || !tok.ExpiresAt.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("got expires_in %d at %v, want 86400 at %v", tok.ExpiresIn, tok.ExpiresAt, t0.Add(24*time.Hour))
	}
	parts := strings.Split(tok.AccessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("got %d segments, want 3", len(parts))
	}
	var header, claims map[string]any
	decode := func(seg string, v any) {
		raw, err := base64.RawURLEncoding.DecodeString(seg)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}
	decode(parts[0], &header)
	decode(parts[1], &claims)
	if fmt.Sprint(header) != "map[alg:HS256 kid:k1 typ:JWT]" {
		t.Errorf("got header %v, want alg HS256, typ JWT, kid k1", header)
	}
	id := b.keys.ids["reader"]
	want := map[string]any{
		"iss": "triggers", "aud": []any{"triggers-api"}, "sub": id, "scope": "inbox:read",
		"iat": float64(t0.Unix()), "nbf": float64(t0.Unix()), "exp": float64(t0.Add(24 * time.Hour).Unix()),
	}
	for k, v := range want {
		if fmt.Sprint(claims[k]) != fmt.Sprint(v) {
			t.Errorf("claim %s: got %v, want %v", k, claims[k], v)
		}
	}
	if jti, _ := claims["jti"].(string); len(jti) < 16 {
		t.Errorf("got jti %q, want a random id", jti)
	}
	if tok.Principal.Subject != id || tok.Principal.KeyID != id || tok.Principal.KeyName != "reader" ||
		fmt.Sprint(tok.Principal.Scopes) != "[inbox:read]" {
		t.Errorf("got principal %+v", tok.Principal)
	}
	other := b.issue(t, "reader")
	if other.Principal.TokenID == tok.Principal.TokenID {
		t.Errorf("two tokens share jti %q", other.Principal.TokenID)
	}
}

func TestAuthorizeAcceptsIssuedToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.issue(t, "full")
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		p, err := b.authn.Authorize(context.Background(), scheme+" "+tok.AccessToken)
		if err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		if p.Subject != b.keys.ids["full"] || p.KeyName != "full" || !slices.Equal(p.Scopes, auth.AllScopes()) ||
			p.TokenID != tok.Principal.TokenID || !p.ExpiresAt.Equal(tok.ExpiresAt) {
			t.Fatalf("got %+v, want %+v", p, tok.Principal)
		}
	}
	// Clock skew within the leeway is tolerated.
	b.clock.Advance(24*time.Hour + auth.Leeway - time.Second)
	if _, err := b.authn.Authorize(context.Background(), "Bearer "+tok.AccessToken); err != nil {
		t.Fatalf("within leeway after expiry: %v", err)
	}
}

// TestAuthorizeRejects covers every way a header or token is refused.
func TestAuthorizeRejects(t *testing.T) {
	t.Parallel()
	b := setup(t)
	k1 := b.keys.creds.SigningKeys["k1"]
	id := b.keys.ids["full"]
	now := t0
	good := b.issue(t, "full").AccessToken
	with := func(edit func(h, c map[string]any)) string {
		h, c := goodHeader("k1"), goodClaims(id, now)
		edit(h, c)
		return forge(t, h, c, k1)
	}
	parts := strings.Split(good, ".")
	tamperedClaims := goodClaims(id, now)
	tamperedClaims["scope"] = "events:write inbox:read inbox:ack subscriptions:manage admin"
	tc, _ := json.Marshal(tamperedClaims)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(tc) + "." + parts[2]
	noneHeader, _ := json.Marshal(map[string]any{"alg": "none", "typ": "JWT", "kid": "k1"})
	noneTok := base64.RawURLEncoding.EncodeToString(noneHeader) + "." + parts[1] + "."
	sig := []byte(parts[2])
	sig[len(sig)-1] ^= 1 // flips a bit the strict decoder must reject or the MAC must catch
	badSig := parts[0] + "." + parts[1] + "." + string(sig)

	cases := []struct {
		name, header, want string
	}{
		{"empty header", "", "missing bearer token"},
		{"scheme only", "Bearer", "missing bearer token"},
		{"scheme and space", "Bearer ", "missing bearer token"},
		{"basic auth", "Basic dXNlcjpwYXNz", "authorization scheme must be Bearer"},
		{"token scheme", "Token " + good, "authorization scheme must be Bearer"},
		{"raw token", good, "authorization scheme must be Bearer"},
		{"leading space", " Bearer " + good, "authorization scheme must be Bearer"},
		{"tab separator", "Bearer\t" + good, "authorization scheme must be Bearer"},
		{"two spaces", "Bearer  " + good, "malformed bearer token"},
		{"trailing space", "Bearer " + good + " ", "malformed bearer token"},
		{"two tokens", "Bearer " + good + " " + good, "malformed bearer token"},
		{"trailing newline", "Bearer " + good + "\n", "malformed bearer token"},
		{"one segment", "Bearer abc", "malformed bearer token"},
		{"four segments", "Bearer " + good + ".x", "malformed bearer token"},
		{"empty segment", "Bearer " + parts[0] + ".." + parts[2], "malformed bearer token"},
		{"padding", "Bearer " + good + "=", "malformed bearer token"},
		{"non-ascii", "Bearer " + good[:10] + "é" + good[12:], "malformed bearer token"},
		{"too long", "Bearer " + strings.Repeat("a", auth.MaxHeaderBytes), "authorization header too long"},
		{"garbled", "Bearer a.b.c", "token malformed"},
		{"header not json", "Bearer " + base64.RawURLEncoding.EncodeToString([]byte("{nope")) + "." + parts[1] + "." + parts[2], "token malformed"},
		{"claims wrong types", "Bearer " + with(func(_, c map[string]any) { c["exp"] = "tomorrow" }), "token malformed"},
		{"scope wrong type", "Bearer " + with(func(_, c map[string]any) { c["scope"] = []string{"inbox:read"} }), "token malformed"},
		{"tampered claims", "Bearer " + tampered, "token signature invalid"},
		{"bad signature bits", "Bearer " + badSig, ""},
		{"truncated signature", "Bearer " + good[:len(good)-3], "token signature invalid"},
		{"signature bad length", "Bearer " + good[:len(good)-2], "token malformed"}, // 41 base64 chars: no such length
		{"wrong secret", "Bearer " + forge(t, goodHeader("k1"), goodClaims(id, now), []byte("another-secret-that-is-32-bytes-long!!")), "token signature invalid"},
		{"alg none empty signature", "Bearer " + noneTok, "malformed bearer token"},
		{"alg none with signature", "Bearer " + noneTok + parts[2], "token algorithm not accepted"},
		{"alg HS512", "Bearer " + with(func(h, _ map[string]any) { h["alg"] = "HS512" }), "token algorithm not accepted"},
		{"alg RS256", "Bearer " + with(func(h, _ map[string]any) { h["alg"] = "RS256" }), "token algorithm not accepted"},
		{"alg unknown", "Bearer " + with(func(h, _ map[string]any) { h["alg"] = "XX999" }), "token algorithm not accepted"},
		{"alg missing", "Bearer " + with(func(h, _ map[string]any) { delete(h, "alg") }), "token algorithm not accepted"},
		{"alg lower case", "Bearer " + with(func(h, _ map[string]any) { h["alg"] = "hs256" }), "token algorithm not accepted"},
		{"no kid", "Bearer " + with(func(h, _ map[string]any) { delete(h, "kid") }), "token has no kid"},
		{"kid not a string", "Bearer " + with(func(h, _ map[string]any) { h["kid"] = 1 }), "token has no kid"},
		{"unknown kid", "Bearer " + with(func(h, _ map[string]any) { h["kid"] = "k0" }), "unknown signing key"},
		{"typ missing", "Bearer " + with(func(h, _ map[string]any) { delete(h, "typ") }), "token type is not JWT"},
		{"typ other", "Bearer " + with(func(h, _ map[string]any) { h["typ"] = "JWS" }), "token type is not JWT"},
		{"crit header", "Bearer " + with(func(h, _ map[string]any) { h["crit"] = []string{"exp"} }), "token has unsupported critical header parameters"},
		{"expired", "Bearer " + with(func(_, c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }), "token expired"},
		{"exp missing", "Bearer " + with(func(_, c map[string]any) { delete(c, "exp") }), "token missing a required claim"},
		{"not yet valid", "Bearer " + with(func(_, c map[string]any) { c["nbf"] = now.Add(time.Minute).Unix() }), "token not valid yet"},
		{"issued in the future", "Bearer " + with(func(_, c map[string]any) { c["iat"] = now.Add(time.Minute).Unix() }), "token issued in the future"},
		{"iat missing", "Bearer " + with(func(_, c map[string]any) { delete(c, "iat") }), "token has no iat"},
		{"wrong issuer", "Bearer " + with(func(_, c map[string]any) { c["iss"] = "someone-else" }), "token issuer not accepted"},
		{"issuer missing", "Bearer " + with(func(_, c map[string]any) { delete(c, "iss") }), "token missing a required claim"},
		{"wrong audience", "Bearer " + with(func(_, c map[string]any) { c["aud"] = "other-api" }), "token audience not accepted"},
		{"audience missing", "Bearer " + with(func(_, c map[string]any) { delete(c, "aud") }), "token missing a required claim"},
		{"sub missing", "Bearer " + with(func(_, c map[string]any) { delete(c, "sub") }), "token has no sub"},
		{"jti missing", "Bearer " + with(func(_, c map[string]any) { delete(c, "jti") }), "token has no jti"},
		{"unknown key", "Bearer " + with(func(_, c map[string]any) { c["sub"] = "000000000000" }), "api key no longer exists"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := b.authn.Authorize(context.Background(), tc.header)
			if err == nil {
				t.Fatalf("got principal %+v, want an error", p)
			}
			e := wantCode(t, err, event.CodeUnauthorized, tc.want)
			if e.Message == "" {
				t.Fatalf("got an empty message")
			}
			_, tok, _ := strings.Cut(tc.header, " ")
			if len(tok) > 8 && (strings.Contains(e.Message, tok) || strings.Contains(err.Error(), tok)) {
				t.Fatalf("error repeats the token: %v", err)
			}
		})
	}
}

func TestAuthorizeRotation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	old := b.issue(t, "full")
	var newKID string
	b.kr.update(t, func(c *auth.Credentials) (err error) {
		newKID, err = c.RotateSigningKey(b.clock.Now())
		return err
	})
	fresh := b.issue(t, "full")
	if kid := headerKID(t, fresh.AccessToken); kid != newKID {
		t.Fatalf("new token signed by %q, want the new active kid %q", kid, newKID)
	}
	for name, tok := range map[string]auth.Token{"old": old, "new": fresh} {
		if _, err := b.authn.Authorize(context.Background(), "Bearer "+tok.AccessToken); err != nil {
			t.Fatalf("%s token after rotation: %v", name, err)
		}
	}
	b.kr.update(t, func(c *auth.Credentials) error { return c.RemoveSigningKey("k1") })
	_, err := b.authn.Authorize(context.Background(), "Bearer "+old.AccessToken)
	wantCode(t, err, event.CodeUnauthorized, "unknown signing key")
	if _, err := b.authn.Authorize(context.Background(), "Bearer "+fresh.AccessToken); err != nil {
		t.Fatalf("new token after removing the old key: %v", err)
	}
}

func headerKID(t *testing.T, tok string) string {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := parsed.Header["kid"].(string)
	return kid
}

func TestAuthorizeRevocation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.issue(t, "full")
	other := b.issue(t, "reader")
	id := b.keys.ids["full"]

	// Scheduled revocation: the key works until revoked_at.
	b.kr.update(t, func(c *auth.Credentials) error { return c.RevokeAPIKey(id, b.clock.Now().Add(time.Hour)) })
	if _, err := b.authn.Authorize(context.Background(), "Bearer "+tok.AccessToken); err != nil {
		t.Fatalf("before revoked_at: %v", err)
	}
	b.clock.Advance(time.Hour)
	_, err := b.authn.Authorize(context.Background(), "Bearer "+tok.AccessToken)
	wantCode(t, err, event.CodeUnauthorized, "api key revoked")
	_, err = b.authn.IssueToken(context.Background(), b.keys.plain["full"])
	wantCode(t, err, event.CodeUnauthorized, "invalid api key")
	if _, err := b.authn.Authorize(context.Background(), "Bearer "+other.AccessToken); err != nil {
		t.Fatalf("another key's token: %v", err)
	}

	// Deleting the key works too.
	b.kr.update(t, func(c *auth.Credentials) error {
		c.APIKeys = slices.DeleteFunc(c.APIKeys, func(k auth.APIKey) bool { return k.ID == b.keys.ids["reader"] })
		return nil
	})
	_, err = b.authn.Authorize(context.Background(), "Bearer "+other.AccessToken)
	wantCode(t, err, event.CodeUnauthorized, "api key no longer exists")
}

func TestAuthorizeScopesIntersectKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.issue(t, "full")
	b.kr.update(t, func(c *auth.Credentials) error {
		for i := range c.APIKeys {
			if c.APIKeys[i].ID == b.keys.ids["full"] {
				c.APIKeys[i].Scopes = []auth.Scope{auth.ScopeInboxAck, auth.ScopeInboxRead}
			}
		}
		return nil
	})
	p, err := b.authn.Authorize(context.Background(), "Bearer "+tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if want := []auth.Scope{auth.ScopeInboxRead, auth.ScopeInboxAck}; !slices.Equal(p.Scopes, want) {
		t.Errorf("got %v, want %v (token order, key's current scopes only)", p.Scopes, want)
	}
	if p.Has(auth.ScopeEventsWrite) {
		t.Errorf("principal kept a scope its key lost")
	}

	// A validly signed token claiming more than its key holds, or
	// nonsense, gets only what the key has.
	claims := goodClaims(b.keys.ids["reader"], t0)
	claims["scope"] = "events:write  inbox:read inbox:read admin *"
	forged := forge(t, goodHeader("k1"), claims, b.keys.creds.SigningKeys["k1"])
	p, err = b.authn.Authorize(context.Background(), "Bearer "+forged)
	if err != nil {
		t.Fatal(err)
	}
	if want := []auth.Scope{auth.ScopeInboxRead}; !slices.Equal(p.Scopes, want) {
		t.Errorf("got %v, want %v", p.Scopes, want)
	}
}

func TestIssueTokenRejects(t *testing.T) {
	t.Parallel()
	b := setup(t)
	full := b.keys.plain["full"]
	id := b.keys.ids["full"]
	cases := []struct{ name, key, want string }{
		{"empty", "", "missing api key"},
		{"too long", strings.Repeat("k", 1025), "invalid api key"},
		{"wrong secret", full[:len(full)-1] + "x", "invalid api key"},
		{"unknown id", "trg_000000000000_" + full[len(full)-26:], "invalid api key"},
		{"no secret", "trg_" + id + "_", "invalid api key"},
		{"no separator", "trg_" + id, "invalid api key"},
		{"prefix only", "trg_", "invalid api key"},
		{"bad id chars", "trg_a.b_secret", "invalid api key"},
		{"legacy id with prefix", "trg_env_" + b.keys.legacy, "invalid api key"},
		{"unprefixed wrong", "not-the-operator-key", "invalid api key"},
		{"prefixed key without prefix", strings.TrimPrefix(full, "trg_"), "invalid api key"},
		{"trailing newline", full + "\n", "invalid api key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := b.authn.IssueToken(context.Background(), tc.key)
			if err == nil {
				t.Fatalf("got %v, want an error", tok)
			}
			wantCode(t, err, event.CodeUnauthorized, tc.want)
			if len(tc.key) > 4 && strings.Contains(err.Error(), tc.key) {
				t.Fatalf("error repeats the key: %v", err)
			}
		})
	}
}

func TestLegacyKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok, err := b.authn.IssueToken(context.Background(), b.keys.legacy)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Principal.Subject != "env" || !slices.Equal(tok.Principal.Scopes, auth.AllScopes()) {
		t.Fatalf("got %+v, want subject env with every scope", tok.Principal)
	}
	if _, err := b.authn.Authorize(context.Background(), "Bearer "+tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	b.kr.update(t, func(c *auth.Credentials) error { return c.RevokeAPIKey("env", t0) })
	_, err = b.authn.IssueToken(context.Background(), b.keys.legacy)
	wantCode(t, err, event.CodeUnauthorized, "invalid api key")
	_, err = b.authn.Authorize(context.Background(), "Bearer "+tok.AccessToken)
	wantCode(t, err, event.CodeUnauthorized, "api key revoked")

	if _, err := auth.NewLegacyKey("env", "x", "trg_looks_prefixed", auth.AllScopes(), t0); err == nil {
		t.Errorf("NewLegacyKey accepted a trg_ plaintext")
	}
	if _, err := auth.NewLegacyKey("bad_id", "x", "plain", auth.AllScopes(), t0); err == nil {
		t.Errorf("NewLegacyKey accepted an id with an underscore")
	}
}

func TestGenerateAPIKey(t *testing.T) {
	t.Parallel()
	plain, key, err := auth.GenerateAPIKey("zapier-prod", []auth.Scope{auth.ScopeInboxRead, auth.ScopeInboxRead}, t0.Add(1500*time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plain, "trg_"+key.ID+"_") || len(key.ID) != 12 || len(plain) != len("trg_")+12+1+26 {
		t.Errorf("got plaintext %q for id %q, want trg_<12 hex>_<26 chars>", plain, key.ID)
	}
	if key.Name != "zapier-prod" || !slices.Equal(key.Scopes, []auth.Scope{auth.ScopeInboxRead}) ||
		!key.CreatedAt.Equal(t0.Add(time.Microsecond)) || key.RevokedAt != nil || key.Legacy {
		t.Errorf("got %v", key)
	}
	if ok, err := auth.VerifyAPIKey(key.Hash, plain); !ok || err != nil {
		t.Errorf("hash does not verify the plaintext: %v, %v", ok, err)
	}
	for name, scopes := range map[string][]auth.Scope{"": auth.AllScopes(), "no scopes": nil, "bad scope": {"root"}} {
		if _, _, err := auth.GenerateAPIKey(name, scopes, t0); err == nil {
			t.Errorf("GenerateAPIKey(%q, %v): got nil error, want one", name, scopes)
		}
	}
}

func TestKeyringFailures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.issue(t, "full")
	for name, kr := range map[string]auth.Keyring{
		"error": auth.KeyringFunc(func(context.Context) (*auth.Credentials, error) {
			return nil, &event.Error{Code: event.CodeUnavailable, Message: "throttled", RetryAfterSeconds: 7, Err: errors.New("secretsmanager: throttled")}
		}),
		"nil":     auth.StaticKeyring(nil),
		"invalid": auth.StaticKeyring(&auth.Credentials{ActiveKID: "x"}),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a, err := auth.New(auth.Config{Keyring: kr, Now: b.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.IssueToken(context.Background(), b.keys.plain["full"])
			e := wantCode(t, err, event.CodeUnavailable, "credentials unavailable")
			if name == "error" && e.RetryAfterSeconds != 7 {
				t.Errorf("got retry after %d, want the keyring's 7", e.RetryAfterSeconds)
			}
			_, err = a.Authorize(context.Background(), "Bearer "+tok.AccessToken)
			wantCode(t, err, event.CodeUnavailable, "credentials unavailable")
			// A bad header is still a 401, not a 503: it is refused before the keyring is read.
			_, err = a.Authorize(context.Background(), "Basic x")
			wantCode(t, err, event.CodeUnauthorized, "")
		})
	}
}

func TestIssueTokenCanceledWhileWaiting(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, err := auth.New(auth.Config{Keyring: b.kr, Now: b.clock.Now, MaxConcurrentHashes: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = a.IssueToken(ctx, b.keys.plain["full"])
	wantCode(t, err, event.CodeUnavailable, "too many concurrent token requests")
}

func TestNewRejectsConfig(t *testing.T) {
	t.Parallel()
	kr := auth.StaticKeyring(keys().creds)
	for name, cfg := range map[string]auth.Config{
		"no keyring":    {},
		"ttl too short": {Keyring: kr, TokenTTL: time.Millisecond},
		"ttl too long":  {Keyring: kr, TokenTTL: 31 * 24 * time.Hour},
		"ttl negative":  {Keyring: kr, TokenTTL: -time.Hour},
	} {
		if _, err := auth.New(cfg); err == nil {
			t.Errorf("%s: got nil error, want one", name)
		}
	}
}

func TestCustomIssuerAudienceTTL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, err := auth.New(auth.Config{Keyring: b.kr, Now: b.clock.Now, Issuer: "https://triggers.example", Audience: "zapier", TokenTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.IssueToken(context.Background(), b.keys.plain["full"])
	if err != nil {
		t.Fatal(err)
	}
	if tok.ExpiresIn != 3600 {
		t.Errorf("got expires_in %d, want 3600", tok.ExpiresIn)
	}
	if _, err := a.Authorize(context.Background(), "Bearer "+tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	// The default authenticator refuses it: different issuer and audience.
	_, err = b.authn.Authorize(context.Background(), "Bearer "+tok.AccessToken)
	wantCode(t, err, event.CodeUnauthorized, "")
	b.clock.Advance(time.Hour + auth.Leeway)
	_, err = a.Authorize(context.Background(), "Bearer "+tok.AccessToken)
	wantCode(t, err, event.CodeUnauthorized, "token expired")
}

// TestConcurrentUse runs issue, authorize and credential changes at once;
// its point is the race detector.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.issue(t, "reader")
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if _, err := b.authn.IssueToken(context.Background(), b.keys.plain["producer"]); err != nil {
				t.Errorf("IssueToken: %v", err)
			}
		})
	}
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := b.authn.Authorize(context.Background(), "Bearer "+tok.AccessToken); err != nil {
					t.Errorf("Authorize: %v", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			b.kr.update(t, func(c *auth.Credentials) error {
				_, err := c.RotateSigningKey(t0)
				return err
			})
		}
	})
	wg.Wait()
}

package apigw_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/triggershq/triggers/pkg/apigw"
	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/event"
)

// clock is a settable time source shared by an Authenticator and a test.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.Set(t); return c }
func (c *clock) Now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Set(t time.Time)  { c.ns.Store(t.UnixNano()) }

// authBundle is a real Authenticator over credentials the test can change.
type authBundle struct {
	authn  *auth.Authenticator
	clock  *clock
	creds  atomic.Pointer[auth.Credentials]
	fail   atomic.Bool // the keyring fails, like Secrets Manager being down
	apiKey string      // the plaintext of the one API key
	keyID  string
}

var (
	credsOnce              sync.Once
	sharedCreds            *auth.Credentials
	sharedKey, sharedKeyID string
)

// newAuth returns an Authenticator with one API key holding every scope. The
// argon2id hash is computed once per test binary.
func newAuth(t testing.TB) *authBundle {
	t.Helper()
	start := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	credsOnce.Do(func() {
		c, err := auth.NewCredentials(start)
		if err != nil {
			t.Fatal(err)
		}
		plain, key, err := auth.GenerateAPIKey("zapier-prod", auth.AllScopes(), start)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddAPIKey(key); err != nil {
			t.Fatal(err)
		}
		sharedCreds, sharedKey, sharedKeyID = c, plain, key.ID
	})
	b := &authBundle{clock: newClock(start), apiKey: sharedKey, keyID: sharedKeyID}
	b.creds.Store(sharedCreds)
	ring := auth.KeyringFunc(func(context.Context) (*auth.Credentials, error) {
		if b.fail.Load() {
			return nil, errors.New("secrets manager is down")
		}
		return b.creds.Load(), nil
	})
	authn, err := auth.New(auth.Config{Keyring: ring, Now: b.clock.Now, TokenTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	b.authn = authn
	return b
}

func (b *authBundle) token(t testing.TB) string {
	t.Helper()
	tok, err := b.authn.IssueToken(context.Background(), b.apiKey)
	if err != nil {
		t.Fatalf("issue token: %v", err)
	}
	return tok.AccessToken
}

func authorizerEvent(t testing.TB, authorization string) events.APIGatewayV2CustomAuthorizerV2Request {
	t.Helper()
	var req events.APIGatewayV2CustomAuthorizerV2Request
	loadEvent(t, "authorizer.json", &req)
	req.Headers["authorization"] = authorization
	req.IdentitySource = []string{authorization}
	return req
}

func TestAuthorizerAllows(t *testing.T) {
	t.Parallel()
	b := newAuth(t)
	tok := b.token(t)
	resp, err := apigw.Authorizer(b.authn, apigw.AuthorizerOptions{})(context.Background(), authorizerEvent(t, "Bearer "+tok))
	if err != nil {
		t.Fatalf("authorizer error: %v", err)
	}
	if !resp.IsAuthorized {
		t.Fatal("isAuthorized: got false, want true")
	}
	for k, v := range resp.Context {
		switch v.(type) {
		case string, int64, float64, bool:
		default:
			t.Errorf("context %s: got a %T; API Gateway takes only primitives", k, v)
		}
		if s, ok := v.(string); ok && strings.Contains(s, tok) {
			t.Errorf("context %s carries the token", k)
		}
	}
	if resp.Context["sub"] != b.keyID || resp.Context["key_id"] != b.keyID || resp.Context["key_name"] != "zapier-prod" {
		t.Errorf("context: got %v, want sub/key_id %s and key_name zapier-prod", resp.Context, b.keyID)
	}
	if resp.Context["scopes"] != "events:write inbox:read inbox:ack subscriptions:manage" {
		t.Errorf("scopes: got %q, want every scope space-separated", resp.Context["scopes"])
	}
	if exp, ok := resp.Context["exp"].(int64); !ok || exp != b.clock.Now().Add(time.Hour).Unix() {
		t.Errorf("exp: got %v, want the token's expiry in Unix seconds", resp.Context["exp"])
	}
}

func TestAuthorizerUsesIdentitySourceWithoutHeader(t *testing.T) {
	t.Parallel()
	b := newAuth(t)
	ev := authorizerEvent(t, "Bearer "+b.token(t))
	delete(ev.Headers, "authorization")
	resp, err := apigw.Authorizer(b.authn, apigw.AuthorizerOptions{})(context.Background(), ev)
	if err != nil || !resp.IsAuthorized {
		t.Fatalf("got isAuthorized %v err %v, want true from identitySource", resp.IsAuthorized, err)
	}
}

func TestAuthorizerDenies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header func(t *testing.T, b *authBundle) string
	}{
		{"no header", func(*testing.T, *authBundle) string { return "" }},
		{"garbage", func(*testing.T, *authBundle) string { return "Bearer garbage" }},
		{"basic scheme", func(t *testing.T, b *authBundle) string {
			return "Basic " + base64.StdEncoding.EncodeToString([]byte("api:"+b.apiKey))
		}},
		{"the API key instead of a token", func(t *testing.T, b *authBundle) string { return "Bearer " + b.apiKey }},
		{"expired", func(t *testing.T, b *authBundle) string {
			tok := b.token(t)
			b.clock.Set(b.clock.Now().Add(time.Hour + auth.Leeway + time.Second))
			return "Bearer " + tok
		}},
		{"tampered payload", func(t *testing.T, b *authBundle) string {
			parts := strings.Split(b.token(t), ".")
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			if err != nil {
				t.Fatal(err)
			}
			payload = bytes.Replace(payload, []byte(b.keyID), []byte("000000000000"), 1)
			parts[1] = base64.RawURLEncoding.EncodeToString(payload)
			return "Bearer " + strings.Join(parts, ".")
		}},
		{"tampered signature", func(t *testing.T, b *authBundle) string {
			tok := []byte(b.token(t))
			i := len(tok) - 2 // a signature character carrying 6 bits
			if tok[i] == 'A' {
				tok[i] = 'B'
			} else {
				tok[i] = 'A'
			}
			return "Bearer " + string(tok)
		}},
		{"alg none", func(t *testing.T, b *authBundle) string {
			parts := strings.Split(b.token(t), ".")
			header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"x"}`))
			return "Bearer " + header + "." + parts[1] + "."
		}},
		{"revoked key", func(t *testing.T, b *authBundle) string {
			tok := b.token(t)
			c := b.creds.Load().Clone()
			if err := c.RevokeAPIKey(b.keyID, b.clock.Now()); err != nil {
				t.Fatal(err)
			}
			b.creds.Store(c)
			return "Bearer " + tok
		}},
		{"signed with a removed key", func(t *testing.T, b *authBundle) string {
			tok := b.token(t)
			c := b.creds.Load().Clone()
			old := c.ActiveKID
			if _, err := c.RotateSigningKey(b.clock.Now()); err != nil {
				t.Fatal(err)
			}
			if err := c.RemoveSigningKey(old); err != nil {
				t.Fatal(err)
			}
			b.creds.Store(c)
			return "Bearer " + tok
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newAuth(t)
			header := tt.header(t, b)
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			resp, err := apigw.Authorizer(b.authn, apigw.AuthorizerOptions{Logger: log})(context.Background(), authorizerEvent(t, header))
			if err != nil {
				t.Fatalf("authorizer error %v: a denial must be isAuthorized false, not an error (which is a 500)", err)
			}
			if resp.IsAuthorized || resp.Context != nil {
				t.Errorf("got isAuthorized %v context %v, want a bare denial", resp.IsAuthorized, resp.Context)
			}
			if !strings.Contains(logs.String(), "authorizer: denied") {
				t.Errorf("log: got %s, want a denial line", logs.String())
			}
			if tok, ok := strings.CutPrefix(header, "Bearer "); ok && len(tok) > 8 && strings.Contains(logs.String(), tok) {
				t.Errorf("log contains the token: %s", logs.String())
			}
			if strings.Contains(logs.String(), b.apiKey) {
				t.Errorf("log contains the API key: %s", logs.String())
			}
		})
	}
}

func TestAuthorizerKeyringFailureIsAnError(t *testing.T) {
	t.Parallel()
	b := newAuth(t)
	tok := b.token(t)
	b.fail.Store(true)
	var logs bytes.Buffer
	h := apigw.Authorizer(b.authn, apigw.AuthorizerOptions{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	resp, err := h(context.Background(), authorizerEvent(t, "Bearer "+tok))
	if err == nil {
		t.Fatalf("got isAuthorized %v and no error, want an error (API Gateway answers 500 and caches nothing)", resp.IsAuthorized)
	}
	if resp.IsAuthorized {
		t.Error("isAuthorized: got true with an error")
	}
	if strings.Contains(logs.String(), tok) || strings.Contains(err.Error(), tok) {
		t.Error("the token leaked into the log or the error")
	}
	if !strings.Contains(logs.String(), string(event.CodeUnavailable)) {
		t.Errorf("log: got %s, want the unavailable code", logs.String())
	}
}

// The authorizer's verdict, as API Gateway forwards it, is what Handler
// reads: the round trip through both halves gives the handler the principal
// Authorize returned.
func TestAuthorizerContextRoundTrip(t *testing.T) {
	t.Parallel()
	b := newAuth(t)
	tok := b.token(t)
	want, err := b.authn.Authorize(context.Background(), "Bearer "+tok)
	if err != nil {
		t.Fatal(err)
	}
	verdict, err := apigw.Authorizer(b.authn, apigw.AuthorizerOptions{})(context.Background(), authorizerEvent(t, "Bearer "+tok))
	if err != nil || !verdict.IsAuthorized {
		t.Fatalf("authorizer: %v %v", verdict.IsAuthorized, err)
	}
	ev := baseEvent("GET", "/inbox")
	ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: viaJSON(t, verdict.Context)}
	resp := invoke(t, echoHandler(), apigw.Options{Now: b.clock.Now}, ev)
	s := decodeSeen(t, resp)
	if s.Principal == nil || !principalEqual(*s.Principal, want) {
		t.Errorf("principal: got %+v, want %+v", s.Principal, want)
	}
}

package auth_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/auth"
)

// exampleDoc is the document from the common brief, with a real hash.
func exampleDoc() string {
	return `{
  "active_kid": "k20261128a",
  "jwt_key_k20261128a": "0123456789abcdefghijklmnopqrstuvwxyzABCD",
  "jwt_key_k20261001x": "an-older-key-still-verifying-its-tokens-0123",
  "api_keys": [
    {"id": "9f3c2a1b7d4e", "name": "zapier-prod", "hash": "` + auth.DummyPHC + `",
     "scopes": ["events:write", "inbox:read", "inbox:ack", "subscriptions:manage"],
     "created_at": "2026-11-28T10:00:00Z", "revoked_at": "2026-11-29T10:00:00Z", "legacy": false}
  ]
}`
}

func TestParseCredentialsExample(t *testing.T) {
	t.Parallel()
	c, err := auth.ParseCredentials([]byte(exampleDoc()))
	if err != nil {
		t.Fatal(err)
	}
	if c.ActiveKID != "k20261128a" || len(c.SigningKeys) != 2 ||
		string(c.SigningKeys["k20261001x"]) != "an-older-key-still-verifying-its-tokens-0123" {
		t.Fatalf("got %v, want the example's signing keys", c)
	}
	k := c.APIKeys[0]
	if k.ID != "9f3c2a1b7d4e" || k.Name != "zapier-prod" || k.Hash != auth.DummyPHC || len(k.Scopes) != 4 ||
		!k.CreatedAt.Equal(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)) || k.RevokedAt == nil || k.Legacy {
		t.Fatalf("got %v, want the example's key", k)
	}
	if k.Revoked(time.Date(2026, 11, 29, 9, 59, 59, 0, time.UTC)) || !k.Revoked(time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("Revoked: want false before revoked_at and true from it on")
	}
}

// TestParseCredentialsCloudFormation: the document CDK's
// GenerateSecretString makes from a template and a generated key.
func TestParseCredentialsCloudFormation(t *testing.T) {
	t.Parallel()
	doc := `{"active_kid":"initial","api_keys":[],"jwt_key_initial":"` + strings.Repeat("aB3", 21) + `x"}`
	c, err := auth.ParseCredentials([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if c.ActiveKID != "initial" || len(c.SigningKeys["initial"]) != 64 || len(c.APIKeys) != 0 {
		t.Fatalf("got %v", c)
	}
}

func TestCredentialsRoundTrip(t *testing.T) {
	t.Parallel()
	doc := strings.Replace(exampleDoc(), `"api_keys"`, `"future_member": {"nested": [1, 2.50, "x"]}, "api_keys"`, 1)
	c, err := auth.ParseCredentials([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"future_member":{"nested":[1,2.50,"x"]}`)) {
		t.Errorf("unknown member lost or changed: %s", out)
	}
	again, err := auth.ParseCredentials(out)
	if err != nil {
		t.Fatalf("re-parse: %v\n%s", err, out)
	}
	out2, err := json.Marshal(again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, out2) {
		t.Errorf("not stable:\n%s\n%s", out, out2)
	}
	// The clone is deep and encodes the same.
	cl := again.Clone()
	cl.SigningKeys["k20261128a"][0] = 'X'
	cl.APIKeys[0].Scopes[0] = auth.ScopeInboxAck
	if out3, _ := json.Marshal(again); !bytes.Equal(out, out3) {
		t.Errorf("changing a clone changed the original")
	}
}

func TestNewCredentialsValid(t *testing.T) {
	t.Parallel()
	c, err := auth.NewCredentials(t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.ActiveKID, "k20261128") || len(c.SigningKeys[c.ActiveKID]) < 32 {
		t.Fatalf("got kid %q, key of %d bytes", c.ActiveKID, len(c.SigningKeys[c.ActiveKID]))
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"api_keys":[]`)) {
		t.Errorf("got %s, want an empty api_keys array", out)
	}
}

func TestCredentialsRejected(t *testing.T) {
	t.Parallel()
	const sk = `"jwt_key_a": "SECRETSECRETSECRETSECRETSECRETSECRET"`
	key := func(fields string) string {
		return `{"active_kid":"a",` + sk + `,"api_keys":[{"id":"abc","name":"n","hash":"` + auth.DummyPHC +
			`","scopes":["inbox:read"]` + fields + `}]}`
	}
	for name, doc := range map[string]string{
		"empty":                  ``,
		"null":                   `null`,
		"array":                  `[]`,
		"string":                 `"x"`,
		"truncated":              `{"active_kid":"a",` + sk,
		"trailing data":          `{"active_kid":"a",` + sk + `} {}`,
		"duplicate member":       `{"active_kid":"a","active_kid":"b",` + sk + `}`,
		"duplicate signing key":  `{"active_kid":"a",` + sk + `,` + sk + `}`,
		"active_kid number":      `{"active_kid":1,` + sk + `}`,
		"signing key number":     `{"active_kid":"a","jwt_key_a":12345678901234567890123456789012345}`,
		"api_keys object":        `{"active_kid":"a",` + sk + `,"api_keys":{}}`,
		"unknown key field":      key(`,"revoke_at":"2026-11-29T10:00:00Z"`),
		"bad created_at":         key(`,"created_at":"yesterday"`),
		"scopes not array":       key(`,"scopes":"inbox:read"`),
		"no active kid":          `{` + sk + `}`,
		"active kid has no key":  `{"active_kid":"b",` + sk + `}`,
		"signing key 31 bytes":   `{"active_kid":"a","jwt_key_a":"` + strings.Repeat("s", 31) + `"}`,
		"other key short":        `{"active_kid":"a",` + sk + `,"jwt_key_b":"short"}`,
		"empty kid":              `{"active_kid":"a",` + sk + `,"jwt_key_":"` + strings.Repeat("s", 40) + `"}`,
		"kid with space":         `{"active_kid":"a b","jwt_key_a b":"` + strings.Repeat("s", 40) + `"}`,
		"key id with underscore": strings.Replace(key(``), `"id":"abc"`, `"id":"a_c"`, 1),
		"empty key id":           strings.Replace(key(``), `"id":"abc"`, `"id":""`, 1),
		"duplicate key id": `{"active_kid":"a",` + sk + `,"api_keys":[` +
			`{"id":"abc","name":"n","hash":"` + auth.DummyPHC + `","scopes":[]},` +
			`{"id":"abc","name":"m","hash":"` + auth.DummyPHC + `","scopes":[]}]}`,
		"unknown scope":   strings.Replace(key(``), `"inbox:read"`, `"inbox:reed"`, 1),
		"duplicate scope": strings.Replace(key(``), `"inbox:read"`, `"inbox:read","inbox:read"`, 1),
		"weak hash":       strings.Replace(key(``), "m=19456,t=2", "m=4096,t=1", 1),
		"no hash":         strings.Replace(key(``), auth.DummyPHC, "", 1),
		"control in name": strings.Replace(key(``), `"name":"n"`, `"name":"a\u0007b"`, 1),
		"secret then bad": `{"active_kid":"a","jwt_key_a":"SECRETSECRETSECRETSECRETSECRETSECRET` + "\x01" + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := auth.ParseCredentials([]byte(doc))
			if err == nil {
				t.Fatalf("got %v, want an error", c)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("error quotes the secret: %v", err)
			}
		})
	}
}

func TestCredentialsHelpers(t *testing.T) {
	t.Parallel()
	c, err := auth.ParseCredentials([]byte(exampleDoc()))
	if err != nil {
		t.Fatal(err)
	}
	old := c.ActiveKID
	kid, err := c.RotateSigningKey(t0)
	if err != nil || c.ActiveKID != kid || len(c.SigningKeys) != 3 {
		t.Fatalf("RotateSigningKey: got %q, %v, active %q, %d keys", kid, err, c.ActiveKID, len(c.SigningKeys))
	}
	if err := c.RemoveSigningKey(kid); err == nil {
		t.Errorf("RemoveSigningKey(active): got nil error, want one")
	}
	if err := c.RemoveSigningKey(old); err != nil || len(c.SigningKeys) != 2 {
		t.Errorf("RemoveSigningKey(old): got %v, %d keys", err, len(c.SigningKeys))
	}
	if err := c.RemoveSigningKey("nope"); err == nil {
		t.Errorf("RemoveSigningKey(unknown): got nil error, want one")
	}
	if err := c.AddAPIKey(c.APIKeys[0]); err == nil {
		t.Errorf("AddAPIKey(duplicate): got nil error, want one")
	}
	first := *c.APIKeys[0].RevokedAt
	if err := c.RevokeAPIKey("9f3c2a1b7d4e", first.Add(time.Hour)); err != nil || !c.APIKeys[0].RevokedAt.Equal(first) {
		t.Errorf("re-revoking moved revoked_at: %v, %v", err, c.APIKeys[0].RevokedAt)
	}
	if err := c.RevokeAPIKey("missing", t0); err == nil {
		t.Errorf("RevokeAPIKey(missing): got nil error, want one")
	}
	if _, ok := c.FindAPIKey("missing"); ok {
		t.Errorf("FindAPIKey(missing): got ok")
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParseScopes(t *testing.T) {
	t.Parallel()
	got, err := auth.ParseScopes([]string{"inbox:read", "events:write", "inbox:read"})
	if err != nil || fmt.Sprint(got) != "[inbox:read events:write]" {
		t.Errorf("got %v, %v, want [inbox:read events:write]", got, err)
	}
	for _, bad := range [][]string{{"admin"}, {""}, {"inbox:read", "INBOX:READ"}} {
		if got, err := auth.ParseScopes(bad); err == nil {
			t.Errorf("ParseScopes(%q): got %v, want an error", bad, got)
		}
	}
}

// TestSecretsRedacted: printing or logging the types that hold secrets, by
// any verb or handler, never shows a signing key, hash or token.
func TestSecretsRedacted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	creds := b.keys.creds
	key := creds.APIKeys[0]
	tok := b.issue(t, "full")
	secrets := []string{string(creds.SigningKeys["k1"]), key.Hash, strings.Split(key.Hash, "$")[4], tok.AccessToken}

	values := []any{key, &key, creds.APIKeys, *creds, creds, tok, &tok, []auth.Token{tok},
		map[string]auth.APIKey{"k": key}, struct{ K auth.APIKey }{key}}
	var out bytes.Buffer
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q", "%T"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		fmt.Fprintln(&out, v)
	}
	for _, h := range []slog.Handler{slog.NewJSONHandler(&out, nil), slog.NewTextHandler(&out, nil)} {
		log := slog.New(h)
		log.Info("x", "key", key, "keyp", &key, "creds", creds, "credsv", *creds, "token", tok, "tokp", &tok)
	}
	for _, s := range secrets {
		if strings.Contains(out.String(), s) {
			t.Fatalf("output contains a secret %q:\n%s", s, out.String())
		}
	}
	if !strings.Contains(out.String(), key.ID) || !strings.Contains(out.String(), "k1") {
		t.Fatalf("redaction went too far: no key id or kid in\n%s", out.String())
	}
}

// FuzzParseCredentials: no document panics, errors never quote a signing
// key, and whatever is accepted survives an encode/decode round trip.
func FuzzParseCredentials(f *testing.F) {
	for _, s := range []string{
		exampleDoc(), `{}`, `{"active_kid":"a","jwt_key_a":"SECRETSECRETSECRETSECRETSECRETSECRET"}`,
		`{"active_kid":"a","jwt_key_a":"SECRETSECRETSECRETSECRETSECRETSECRET","api_keys":[{"id":"x"}]}`,
		`{"a":1,"a":2}`, `[`, `{"api_keys":null,"x":{"y":[]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := auth.ParseCredentials(data)
		if err != nil {
			for _, secret := range signingKeyValues(data) {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error quotes a signing key: %v", err)
				}
			}
			return
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("accepted but cannot encode: %v", err)
		}
		again, err := auth.ParseCredentials(out)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if out2, _ := json.Marshal(again); !bytes.Equal(out, out2) {
			t.Fatalf("round trip changed:\n%s\n%s", out, out2)
		}
	})
}

// signingKeyValues returns the jwt_key_* values of a document, as far as a
// lenient decode can tell, that appear nowhere else in it (a value that is
// also, say, the active_kid may rightly be quoted as that).
func signingKeyValues(data []byte) []string {
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	var out []string
	for name, v := range m {
		s, ok := v.(string)
		if !ok || !strings.HasPrefix(name, "jwt_key_") || len(s) < 16 {
			continue
		}
		if enc, _ := json.Marshal(s); bytes.Count(data, enc[1:len(enc)-1]) == 1 {
			out = append(out, s)
		}
	}
	return out
}

package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/event"
)

// writeCreds writes c to path as UpdateCredentialsFile would, for setup.
func writeCreds(t *testing.T, path string, c *auth.Credentials) {
	t.Helper()
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestOpenFileKeyringCreates(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data", "credentials.json")
	kr, err := auth.OpenFileKeyring(path, auth.FileKeyringOptions{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("got mode %04o, want 0600", perm)
	}
	if dir, _ := os.Stat(filepath.Dir(path)); dir.Mode().Perm() != 0o700 {
		t.Errorf("got directory mode %04o, want 0700", dir.Mode().Perm())
	}
	c, err := kr.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SigningKeys) != 1 || len(c.APIKeys) != 0 {
		t.Fatalf("got %v, want one signing key and no API keys", c)
	}
	// Opening again keeps the same document.
	again, err := auth.OpenFileKeyring(path, auth.FileKeyringOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := again.Credentials(context.Background())
	if c2.ActiveKID != c.ActiveKID {
		t.Fatalf("reopening changed the active kid: %q, want %q", c2.ActiveKID, c.ActiveKID)
	}
}

func TestOpenFileKeyringRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	open := filepath.Join(dir, "world-readable.json")
	writeCreds(t, open, keys().creds)
	if err := os.Chmod(open, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"active_kid":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.json")
	writeCreds(t, good, keys().creds)
	clash := keys().creds.APIKeys[0]
	for name, tc := range map[string]struct {
		path string
		opts auth.FileKeyringOptions
	}{
		"world readable":    {open, auth.FileKeyringOptions{}},
		"invalid document":  {bad, auth.FileKeyringOptions{}},
		"static id clash":   {good, auth.FileKeyringOptions{StaticKeys: []auth.APIKey{clash}}},
		"invalid static":    {good, auth.FileKeyringOptions{StaticKeys: []auth.APIKey{{ID: "x_y"}}}},
		"directory as file": {dir, auth.FileKeyringOptions{}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := auth.OpenFileKeyring(tc.path, tc.opts); err == nil {
				t.Fatalf("got nil error, want one")
			}
		})
	}
}

// TestFileKeyringPicksUpRevoke: a revoke written by UpdateCredentialsFile
// (as `triggers keys revoke` does from another process) reaches a running
// Authenticator at its next check, a second later.
func TestFileKeyringPicksUpRevoke(t *testing.T) {
	t.Parallel()
	ks := keys()
	path := filepath.Join(t.TempDir(), "credentials.json")
	base := ks.creds.Clone()
	base.APIKeys = base.APIKeys[:3] // the legacy key comes from StaticKeys instead
	writeCreds(t, path, base)
	clk := newClock()
	kr, err := auth.OpenFileKeyring(path, auth.FileKeyringOptions{Now: clk.Now, StaticKeys: ks.creds.APIKeys[3:]})
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.Config{Keyring: kr, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, err := a.IssueToken(ctx, ks.plain["full"])
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := a.IssueToken(ctx, ks.legacy)
	if err != nil {
		t.Fatalf("static legacy key: %v", err)
	}

	if err := auth.UpdateCredentialsFile(path, func(c *auth.Credentials) error {
		return c.RevokeAPIKey(ks.ids["full"], clk.Now())
	}); err != nil {
		t.Fatal(err)
	}
	// Within the check interval the cached document is still served.
	if _, err := a.Authorize(ctx, "Bearer "+tok.AccessToken); err != nil {
		t.Fatalf("before the next check: %v", err)
	}
	clk.Advance(time.Second)
	_, err = a.Authorize(ctx, "Bearer "+tok.AccessToken)
	wantCode(t, err, event.CodeUnauthorized, "api key revoked")
	if _, err := a.Authorize(ctx, "Bearer "+legacy.AccessToken); err != nil {
		t.Fatalf("static key lost on reload: %v", err)
	}
	c, _ := kr.Credentials(ctx)
	if _, ok := c.FindAPIKey("env"); !ok {
		t.Fatalf("static key missing after reload")
	}
}

// TestFileKeyringFailsClosed: a broken or missing file makes Credentials
// fail (so no revocation is lost to a stale copy) until it is fixed.
func TestFileKeyringFailsClosed(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "credentials.json")
	writeCreds(t, path, keys().creds)
	clk := newClock()
	kr, err := auth.OpenFileKeyring(path, auth.FileKeyringOptions{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	steps := []struct {
		name    string
		change  func()
		wantErr bool
	}{
		{"half written", func() { os.WriteFile(path, []byte(`{"active_kid":"k1","jwt_k`), 0o600) }, true},
		{"fixed", func() { writeCreds(t, path, keys().creds) }, false},
		{"chmod 644", func() { os.Chmod(path, 0o644) }, true},
		{"chmod 600", func() { os.Chmod(path, 0o600) }, false},
		{"deleted", func() { os.Remove(path) }, true},
		{"restored", func() { writeCreds(t, path, keys().creds) }, false},
	}
	for _, s := range steps {
		s.change()
		clk.Advance(time.Second)
		c, err := kr.Credentials(ctx)
		if (err != nil) != s.wantErr || (err == nil && c == nil) {
			t.Fatalf("%s: got %v, %v, want error %v", s.name, c, err, s.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "k1-secret") {
			t.Fatalf("%s: error quotes the secret: %v", s.name, err)
		}
	}
}

func TestUpdateCredentialsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials.json")

	// Absent file: starts from NewCredentials.
	if err := auth.UpdateCredentialsFile(path, func(c *auth.Credentials) error {
		if len(c.SigningKeys) != 1 {
			t.Errorf("got %d signing keys in a new document, want 1", len(c.SigningKeys))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing is written when fn fails or the result is invalid.
	boom := errors.New("boom")
	if err := auth.UpdateCredentialsFile(path, func(*auth.Credentials) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("got %v, want %v", err, boom)
	}
	if err := auth.UpdateCredentialsFile(path, func(c *auth.Credentials) error { c.ActiveKID = "gone"; return nil }); err == nil {
		t.Fatalf("invalid result written")
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatalf("failed updates changed the file")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "credentials.json" && e.Name() != "credentials.json.lock" {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

// TestUpdateCredentialsFileConcurrent: concurrent read-modify-writes (as
// from several CLI processes) never lose an update, and members this
// package does not know survive.
func TestUpdateCredentialsFileConcurrent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "credentials.json")
	c := keys().creds.Clone()
	c.APIKeys = nil
	data, _ := json.Marshal(c)
	data = append(data[:len(data)-1], []byte(`,"x_note":"kept"}`)...)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	template := keys().creds.APIKeys[0]
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := auth.UpdateCredentialsFile(path, func(c *auth.Credentials) error {
				k := template
				k.ID = "key-" + string(rune('a'+i))
				return c.AddAPIKey(k)
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := auth.ParseCredentials(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.APIKeys) != n {
		t.Fatalf("got %d keys, want %d: updates were lost", len(got.APIKeys), n)
	}
	if !strings.Contains(string(raw), `"x_note": "kept"`) {
		t.Fatalf("unknown member dropped:\n%s", raw)
	}
}

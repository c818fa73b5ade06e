package client_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/boltstore"
	"github.com/triggershq/triggers/pkg/httpapi"
)

// apiServer is the real HTTP API (pkg/httpapi) on a real bbolt store in a
// temporary directory, with real auth, served by httptest: what the unit
// tests and the examples talk to when they need no separate process.
type apiServer struct {
	*httptest.Server
	APIKey string
	store  *boltstore.Store
	dir    string
}

type serverOptions struct {
	tokenTTL time.Duration
	now      func() time.Time
	scopes   []auth.Scope
	wrap     func(http.Handler) http.Handler // middleware in front of the API
}

func startAPIServer(o serverOptions) (*apiServer, error) {
	dir, err := os.MkdirTemp("", "triggers-client-")
	if err != nil {
		return nil, err
	}
	s := &apiServer{dir: dir}
	fail := func(err error) (*apiServer, error) {
		s.Close()
		return nil, err
	}
	now := o.now
	if now == nil {
		now = time.Now
	}
	creds, err := auth.NewCredentials(now())
	if err != nil {
		return fail(err)
	}
	scopes := o.scopes
	if scopes == nil {
		scopes = auth.AllScopes()
	}
	plain, key, err := auth.GenerateAPIKey("sdk-test", scopes, now())
	if err != nil {
		return fail(err)
	}
	creds.APIKeys = append(creds.APIKeys, key)
	s.APIKey = plain
	authn, err := auth.New(auth.Config{Keyring: auth.StaticKeyring(creds), TokenTTL: o.tokenTTL, Now: now})
	if err != nil {
		return fail(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	s.store, err = boltstore.Open(filepath.Join(dir, "triggers.db"), boltstore.Options{Logger: quiet, Now: now})
	if err != nil {
		return fail(err)
	}
	api, err := httpapi.New(httpapi.Config{Store: s.store, Auth: authn, Logger: quiet, Now: now})
	if err != nil {
		return fail(err)
	}
	h := api.Handler()
	if o.wrap != nil {
		h = o.wrap(h)
	}
	s.Server = httptest.NewServer(h)
	return s, nil
}

// Close stops the server and removes its store.
func (s *apiServer) Close() {
	if s.Server != nil {
		s.Server.Close()
	}
	if s.store != nil {
		_ = s.store.Close()
	}
	_ = os.RemoveAll(s.dir)
}

// newAPIServer starts an apiServer for a test and stops it when it ends.
func newAPIServer(t testing.TB, o serverOptions) *apiServer {
	t.Helper()
	s, err := startAPIServer(o)
	if err != nil {
		t.Fatalf("start API server: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// newExampleServer starts an apiServer for an Example, which has no
// testing.T; the example defers Close.
func newExampleServer() *apiServer {
	s, err := startAPIServer(serverOptions{})
	if err != nil {
		panic(fmt.Sprintf("start API server: %v", err))
	}
	return s
}

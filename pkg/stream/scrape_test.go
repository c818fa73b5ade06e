package stream_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/httpapi"
	"github.com/triggershq/triggers/pkg/metrics"
)

// getJSON serves GET path through the real HTTP API on the world's store,
// as a caller whose token carries every scope, and decodes the 200 answer.
func getJSON(t testing.TB, w *world, path string, v any) {
	t.Helper()
	api, err := httpapi.New(httpapi.Config{Store: w.store, Subscriptions: w.store, Deliveries: w.store, Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req = req.WithContext(auth.WithPrincipal(req.Context(), auth.Principal{Subject: "k", KeyID: "k", Scopes: auth.AllScopes()}))
	rec := httptest.NewRecorder()
	api.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: got %d %s", path, rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, rec.Body)
	}
}

// scrapeValue reads one sample without labels from the registry's
// exposition (-1 if absent).
func scrapeValue(t testing.TB, r *metrics.Registry, name string) float64 {
	t.Helper()
	var b strings.Builder
	if err := r.WriteText(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(b.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return -1
}

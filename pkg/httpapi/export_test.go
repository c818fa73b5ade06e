package httpapi

import (
	"net/http"
	"net/netip"
	"slices"

	"github.com/triggershq/triggers/pkg/routes"
)

// HandlerPatterns returns the route patterns the API has handlers for.
func (a *API) HandlerPatterns() []string {
	out := make([]string, 0, len(a.handlers))
	for p := range a.handlers {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// CheckTable runs New's table check against handlers for patterns.
func CheckTable(table []routes.Route, patterns []string) error {
	hs := make(map[string]handlerFunc, len(patterns))
	for _, p := range patterns {
		hs[p] = func(http.ResponseWriter, *http.Request) error { return nil }
	}
	return checkTable(table, hs)
}

// ClientKey exposes the /token limiter's client identity for tests.
func ClientKey(r *http.Request, trusted []netip.Prefix) string { return clientKey(r, trusted) }

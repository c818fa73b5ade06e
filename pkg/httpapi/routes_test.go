package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/triggershq/triggers/pkg/httpapi"
	"github.com/triggershq/triggers/pkg/routes"
)

// The route table and the handler map must agree both ways: a route
// without a handler or a handler without a route is a deploy-time bug.
func TestRouteTableMatchesHandlers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	var table []string
	for _, rt := range routes.Table {
		table = append(table, rt.Pattern())
	}
	slices.Sort(table)
	if got := e.api.HandlerPatterns(); !slices.Equal(got, table) {
		t.Errorf("handler patterns: got %v, want %v", got, table)
	}

	extra := append(slices.Clone(routes.Table), routes.Route{Method: "GET", Path: "/nowhere"})
	if err := httpapi.CheckTable(extra, table); err == nil || !strings.Contains(err.Error(), "GET /nowhere has no handler") {
		t.Errorf("route without handler: got %v, want an error naming it", err)
	}
	if err := httpapi.CheckTable(routes.Table, append(slices.Clone(table), "GET /orphan")); err == nil || !strings.Contains(err.Error(), "GET /orphan is not in routes.Table") {
		t.Errorf("handler without route: got %v, want an error naming it", err)
	}
}

// Every route answers something other than the catch-all 404 through
// Handler, and through FunctionHandler of its own function only.
func TestFunctionHandlerServesOnlyItsRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	functions := map[string]bool{}
	for _, rt := range routes.Table {
		functions[rt.Function] = true
	}
	functions["no-such-function"] = true
	for fn := range functions {
		h := e.api.FunctionHandler(fn)
		for _, rt := range routes.Table {
			res := e.doWith(h, req{method: rt.Method, target: strings.ReplaceAll(rt.Path, "{id}", "0190f3c2-0000-7000-8000-000000000000"),
				header: jsonCT, body: "{}", token: e.token(keyFull)})
			routed := res.Code != http.StatusNotFound || res.problem(t).Detail != notFoundDetail(t, e)
			if want := rt.Function == fn; routed != want {
				t.Errorf("FunctionHandler(%q) %s: routed %v, want %v (status %d %s)", fn, rt.Pattern(), routed, want, res.Code, res.Body)
			}
		}
	}
}

// notFoundDetail is the catch-all's detail, to tell it from a 404 for an id.
func notFoundDetail(t *testing.T, e *env) string {
	t.Helper()
	return e.do(req{method: "GET", target: "/definitely/not/a/route"}).problem(t).Detail
}

// Each known path answers other methods with 405 and the table's methods
// (plus HEAD where GET is) in Allow.
func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	allowed := map[string][]string{}
	for _, rt := range routes.Table {
		allowed[rt.Path] = append(allowed[rt.Path], rt.Method)
		if rt.Method == "GET" {
			allowed[rt.Path] = append(allowed[rt.Path], "HEAD")
		}
	}
	for path, methods := range allowed {
		slices.Sort(methods)
		target := strings.ReplaceAll(path, "{id}", "0190f3c2-0000-7000-8000-000000000000")
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "HEAD"} {
			if slices.Contains(methods, m) {
				continue
			}
			t.Run(m+" "+path, func(t *testing.T) {
				res := e.do(req{method: m, target: target, token: e.token(keyFull)})
				res.wantStatus(t, http.StatusMethodNotAllowed)
				if p := res.problem(t); p.Code != httpapi.CodeMethodNotAllowed {
					t.Errorf("code: got %q, want %q", p.Code, httpapi.CodeMethodNotAllowed)
				}
				if got, want := res.Header.Get("Allow"), strings.Join(methods, ", "); got != want {
					t.Errorf("Allow: got %q, want %q", got, want)
				}
			})
		}
	}
}

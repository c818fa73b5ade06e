package httpapi_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/httpapi"
	"github.com/triggershq/triggers/pkg/openapi"
	"github.com/triggershq/triggers/pkg/routes"
)

// The OpenAPI contract test. It holds pkg/openapi's document to the
// handlers in both directions:
//
//   - every route of routes.Table is an operation of the document and every
//     operation is a route (TestOpenAPIRoutesMatchTable);
//   - every (route, status) pair the document lists is driven through the
//     real handlers (bbolt store in a temp dir, real auth) by a case of
//     contractCases, and the answer's status, headers, media type and body
//     are validated against the documented response with a JSON Schema
//     2020-12 validator; a documented pair without a case, and a case whose
//     answer the document does not list, both fail (TestOpenAPIContract).
//
// Adding a route: add it to routes.Table, document it in
// pkg/openapi/openapi.json, and add one case per documented status below.

// contractCase drives one documented (route, status) pair.
type contractCase struct {
	name   string
	route  string // the routes.Table pattern, e.g. "POST /events"
	status int    // the status the case must produce
	// setup builds the case's environment; nil means a plain newEnv.
	setup func(t *testing.T) *env
	// req builds the request; it may send earlier requests through e first.
	req func(t *testing.T, e *env) req
	// check, if set, makes case-specific assertions beyond the schema.
	check func(t *testing.T, e *env, res response)
}

// withStore returns a setup whose store has faults injected.
func withStore(fs *faultStore) func(t *testing.T) *env {
	return func(t *testing.T) *env {
		e := newEnv(t, func(s event.Store) event.Store { fs.Store = s; return fs })
		e.allow5xx = true
		return e
	}
}

var (
	errStoreDown = func() error {
		return &event.Error{Code: event.CodeUnavailable, Message: "the store is throttling; retry later", RetryAfterSeconds: 2}
	}
	errStoreBug = func() error { return event.Internal("contract test", errors.New("injected internal fault")) }
	errPlain    = func() error { return errors.New("injected plain fault") }
)

// someID is a well-formed UUIDv7 that no env holds.
const someID = "0190f3c2-0000-7000-8000-000000000000"

func simple(method, target string, key string, h http.Header, body string) func(*testing.T, *env) req {
	return func(t *testing.T, e *env) req {
		r := req{method: method, target: target, header: h, body: body}
		if key != "" {
			r.token = e.token(key)
		}
		return r
	}
}

func eventReq(key, body string, h http.Header) func(*testing.T, *env) req {
	if h == nil {
		h = jsonCT
	}
	return simple("POST", "/events", key, h, body)
}

func formCT() http.Header { return hdr("Content-Type", "application/x-www-form-urlencoded") }

func tokenForm(password string) string {
	return url.Values{"username": {"api"}, "password": {password}}.Encode()
}

// contractCases is one case per documented (route, status), more where one
// status has distinct shapes (the two 422s of POST /events, the two /token
// request forms).
func contractCases() []contractCase {
	const (
		health  = "GET /health"
		token   = "POST /token"
		create  = "POST /events"
		get     = "GET /events/{id}"
		inbox   = "GET /inbox"
		ack     = "POST /inbox/{id}/ack"
		spec    = "GET /openapi.json"
		docs    = "GET /docs"
		badAuth = "Bearer not.a.token"
	)
	return append(subscriptionContractCases(), []contractCase{
		// GET /health
		{name: "healthy", route: health, status: 200, req: simple("GET", "/health", "", nil, "")},
		{name: "store down", route: health, status: 503, setup: withStore(&faultStore{ping: errPlain}), req: simple("GET", "/health", "", nil, "")},
		{name: "panic", route: health, status: 500, setup: withStore(&faultStore{panic: true}), req: simple("GET", "/health", "", nil, "")},

		// POST /token
		{name: "form", route: token, status: 200, req: func(t *testing.T, e *env) req {
			return req{method: "POST", target: "/token", header: formCT(), body: tokenForm(e.auth.plain[keyFull])}
		}},
		{name: "json", route: token, status: 200, req: func(t *testing.T, e *env) req {
			return req{method: "POST", target: "/token", header: jsonCT, body: `{"api_key":` + quote(e.auth.plain[keyFull]) + `}`}
		}},
		{name: "malformed json", route: token, status: 400, req: simple("POST", "/token", "", jsonCT, `{"api_key":`)},
		{name: "malformed form", route: token, status: 400, req: simple("POST", "/token", "", formCT(), "password=%zz")},
		{name: "wrong key", route: token, status: 401, req: simple("POST", "/token", "", formCT(), tokenForm("trg_000000000000_wrong"))},
		{name: "too large", route: token, status: 413, req: simple("POST", "/token", "", formCT(), tokenForm(strings.Repeat("k", 9<<10)))},
		{name: "text body", route: token, status: 415, req: simple("POST", "/token", "", hdr("Content-Type", "text/plain"), "key")},
		{name: "no password", route: token, status: 422, req: simple("POST", "/token", "", formCT(), "username=api")},
		{name: "too many failures", route: token, status: 429, req: func(t *testing.T, e *env) req {
			wrong := req{method: "POST", target: "/token", header: formCT(), body: tokenForm("trg_000000000000_wrong"), remote: "203.0.113.9:4000"}
			for range 3 { // the fixture's limiter allows 3 failures a minute
				e.do(wrong).wantStatus(t, http.StatusUnauthorized)
			}
			return wrong
		}},
		{name: "limiter down", route: token, status: 503,
			setup: func(t *testing.T) *env {
				e := newEnv(t, nil, func(c *httpapi.Config) { c.Limiter = fixedLimiter{err: errors.New("limiter table unreachable")} })
				e.allow5xx = true
				return e
			},
			req: func(t *testing.T, e *env) req {
				return req{method: "POST", target: "/token", header: formCT(), body: tokenForm(e.auth.plain[keyFull])}
			}},
		{name: "no authenticator", route: token, status: 500,
			setup: func(t *testing.T) *env {
				e := newEnv(t, nil, func(c *httpapi.Config) { c.Auth = nil })
				e.allow5xx = true
				return e
			},
			req: simple("POST", "/token", "", jsonCT, `{"api_key":"trg_000000000000_x"}`)},

		// POST /events
		{name: "created", route: create, status: 201, req: eventReq(keyFull, validBody, hdr("Content-Type", "application/json", "Idempotency-Key", "contract-1")),
			check: func(t *testing.T, e *env, res response) {
				if res.Header.Get("Idempotent-Replayed") != "" {
					t.Errorf("first request: got Idempotent-Replayed %q, want none", res.Header.Get("Idempotent-Replayed"))
				}
			}},
		{name: "replayed", route: create, status: 201, req: func(t *testing.T, e *env) req {
			r := eventReq(keyFull, validBody, hdr("Content-Type", "application/json", "Idempotency-Key", "contract-2"))(t, e)
			e.do(r).wantStatus(t, http.StatusCreated)
			return r
		}, check: func(t *testing.T, e *env, res response) {
			if res.Header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("replay: got Idempotent-Replayed %q, want true", res.Header.Get("Idempotent-Replayed"))
			}
		}},
		{name: "malformed", route: create, status: 400, req: eventReq(keyFull, `{"type":`, nil)},
		{name: "no token", route: create, status: 401, req: eventReq("", validBody, nil)},
		{name: "bad token", route: create, status: 401, req: eventReq("", validBody, hdr("Content-Type", "application/json", "Authorization", badAuth))},
		{name: "two authorization headers", route: create, status: 401, req: eventReq("", validBody, hdr("Content-Type", "application/json", "Authorization", badAuth, "Authorization", badAuth))},
		{name: "read-only token", route: create, status: 403, req: eventReq(keyRead, validBody, nil)},
		{name: "too large", route: create, status: 413, req: eventReq(keyFull, body(`"a"`, `"s"`, `{"x":`+quote(strings.Repeat("x", httpapi.DefaultMaxBodyBytes))+`}`), nil)},
		{name: "form body", route: create, status: 415, req: eventReq(keyFull, validBody, formCT())},
		{name: "invalid fields", route: create, status: 422, req: eventReq(keyFull, body(`1`, `""`, `[]`), nil)},
		{name: "bad idempotency key", route: create, status: 422, req: eventReq(keyFull, validBody, hdr("Content-Type", "application/json", "Idempotency-Key", "clé"))},
		{name: "idempotency conflict", route: create, status: 422, req: func(t *testing.T, e *env) req {
			h := hdr("Content-Type", "application/json", "Idempotency-Key", "contract-3")
			e.do(eventReq(keyFull, validBody, h)(t, e)).wantStatus(t, http.StatusCreated)
			return eventReq(keyFull, body(`"other.type"`, `"s"`, `{}`), h)(t, e)
		}, check: func(t *testing.T, e *env, res response) {
			if p := res.problem(t); p.Code != event.CodeConflict {
				t.Errorf("code: got %q, want %q", p.Code, event.CodeConflict)
			}
		}},
		{name: "store throttling", route: create, status: 503, setup: withStore(&faultStore{put: errStoreDown}), req: eventReq(keyFull, validBody, nil)},
		{name: "store bug", route: create, status: 500, setup: withStore(&faultStore{put: errStoreBug}), req: eventReq(keyFull, validBody, nil)},

		// GET /events/{id}
		{name: "found", route: get, status: 200, req: func(t *testing.T, e *env) req {
			id := e.createEvent(e.token(keyFull), "order.placed", "shop", `{"total":99.990,"big":1e999,"s":"<&>"}`)
			return req{method: "GET", target: "/events/" + id, token: e.token(keySubs)}
		}},
		{name: "no token", route: get, status: 401, req: simple("GET", "/events/"+someID, "", nil, "")},
		{name: "unknown", route: get, status: 404, req: simple("GET", "/events/"+someID, keyFull, nil, "")},
		{name: "malformed id", route: get, status: 404, req: simple("GET", "/events/nope", keyFull, nil, "")},
		{name: "store throttling", route: get, status: 503, setup: withStore(&faultStore{get: errStoreDown}), req: simple("GET", "/events/"+someID, keyFull, nil, "")},
		{name: "store bug", route: get, status: 500, setup: withStore(&faultStore{get: errStoreBug}), req: simple("GET", "/events/"+someID, keyFull, nil, "")},

		// GET /inbox
		{name: "first of two pages", route: inbox, status: 200, req: func(t *testing.T, e *env) req {
			for i := range 3 {
				e.createEvent(e.token(keyFull), "order.placed", "shop", fmt.Sprintf(`{"n":%d}`, i))
				e.clock.Advance(1)
			}
			return req{method: "GET", target: "/inbox?limit=2&type=order.placed", token: e.token(keyRead)}
		}, check: func(t *testing.T, e *env, res response) {
			if res.Header.Get("Link") == "" || res.Header.Get("X-Next-Cursor") == "" {
				t.Errorf("a page with more to come: got Link %q and X-Next-Cursor %q, want both", res.Header.Get("Link"), res.Header.Get("X-Next-Cursor"))
			}
		}},
		{name: "empty", route: inbox, status: 200, req: simple("GET", "/inbox", keyRead, nil, ""), check: func(t *testing.T, e *env, res response) {
			if string(res.Body) != "[]\n" || res.Header.Get("Link") != "" || res.Header.Get("X-Next-Cursor") != "" {
				t.Errorf("empty inbox: got body %q, Link %q, X-Next-Cursor %q; want [] and neither header", res.Body, res.Header.Get("Link"), res.Header.Get("X-Next-Cursor"))
			}
		}},
		{name: "bad token", route: inbox, status: 401, req: simple("GET", "/inbox", "", hdr("Authorization", badAuth), "")},
		{name: "write-only token", route: inbox, status: 403, req: simple("GET", "/inbox", keyWrite, nil, "")},
		{name: "bad limit", route: inbox, status: 422, req: simple("GET", "/inbox?limit=0&cursor=%00", keyRead, nil, "")},
		{name: "malformed query", route: inbox, status: 422, req: simple("GET", "/inbox?limit=%zz", keyRead, nil, "")},
		{name: "store throttling", route: inbox, status: 503, setup: withStore(&faultStore{list: errStoreDown}), req: simple("GET", "/inbox", keyRead, nil, "")},
		{name: "store bug", route: inbox, status: 500, setup: withStore(&faultStore{list: errPlain}), req: simple("GET", "/inbox", keyRead, nil, "")},

		// POST /inbox/{id}/ack
		{name: "acknowledged", route: ack, status: 200, req: func(t *testing.T, e *env) req {
			id := e.createEvent(e.token(keyFull), "order.placed", "shop", `{}`)
			e.clock.Advance(1500)
			return req{method: "POST", target: "/inbox/" + id + "/ack", token: e.token(keyAck), header: jsonCT, body: "{}"}
		}},
		{name: "no token", route: ack, status: 401, req: simple("POST", "/inbox/"+someID+"/ack", "", nil, "")},
		{name: "read-only token", route: ack, status: 403, req: simple("POST", "/inbox/"+someID+"/ack", keyRead, nil, "")},
		{name: "unknown", route: ack, status: 404, req: simple("POST", "/inbox/"+someID+"/ack", keyAck, nil, "")},
		{name: "store throttling", route: ack, status: 503, setup: withStore(&faultStore{ack: errStoreDown}), req: simple("POST", "/inbox/"+someID+"/ack", keyAck, nil, "")},
		{name: "store bug", route: ack, status: 500, setup: withStore(&faultStore{ack: errStoreBug}), req: simple("POST", "/inbox/"+someID+"/ack", keyAck, nil, "")},

		// GET /openapi.json
		{name: "document", route: spec, status: 200, req: simple("GET", "/openapi.json", "", nil, ""), check: func(t *testing.T, e *env, res response) {
			if string(res.Body) != string(openapi.Document().Body) {
				t.Error("GET /openapi.json does not serve the embedded document")
			}
		}},
		{name: "not modified", route: spec, status: 304, req: simple("GET", "/openapi.json", "", hdr("If-None-Match", `"stale", `+openapi.Document().ETag), "")},
		{name: "not modified, weak", route: spec, status: 304, req: simple("GET", "/openapi.json", "", hdr("If-None-Match", "W/"+openapi.Document().ETag), "")},
		{name: "not modified, any", route: spec, status: 304, req: simple("GET", "/openapi.json", "", hdr("If-None-Match", "*"), "")},
		{name: "stale validator", route: spec, status: 200, req: simple("GET", "/openapi.json", "", hdr("If-None-Match", `"0123"`), "")},

		// GET /docs
		{name: "page", route: docs, status: 200, req: simple("GET", "/docs", "", nil, ""), check: func(t *testing.T, e *env, res response) {
			if got, want := res.Header.Get("Content-Security-Policy"), openapi.Page().ContentSecurityPolicy; got != want {
				t.Errorf("Content-Security-Policy: got %q, want %q", got, want)
			}
			if string(res.Body) != string(openapi.Page().Body) {
				t.Error("GET /docs does not serve the embedded page")
			}
		}},
		{name: "not modified", route: docs, status: 304, req: simple("GET", "/docs", "", hdr("If-None-Match", openapi.Page().ETag), "")},
	}...)
}

// TestOpenAPIContract drives every documented (route, status) pair through
// the real handlers and validates each answer against the document.
func TestOpenAPIContract(t *testing.T) {
	t.Parallel()
	doc := loadAPIDoc(t)
	ops := doc.operations()
	var (
		mu      sync.Mutex
		covered = map[string]bool{} // "POST /events 201"
	)
	t.Run("cases", func(t *testing.T) {
		for _, c := range contractCases() {
			t.Run(c.route+" "+fmt.Sprint(c.status)+" "+c.name, func(t *testing.T) {
				t.Parallel()
				op, ok := ops[c.route]
				if !ok {
					t.Fatalf("%s is not in the OpenAPI document", c.route)
				}
				var e *env
				if c.setup != nil {
					e = c.setup(t)
				} else {
					e = newEnv(t, nil)
				}
				r := c.req(t, e)
				if r.remote == "" {
					r.remote = "198.51.100.7:4000"
				}
				res := e.do(r)
				if res.Code != c.status {
					t.Fatalf("status: got %d, want %d; body %.500s", res.Code, c.status, res.Body)
				}
				ptr, ok := doc.responsePtr(t, c.route, res.Code)
				if !ok {
					t.Fatalf("%s answered %d, which the document does not list for it (documented: %v)", c.route, res.Code, doc.documentedStatuses(op))
				}
				mu.Lock()
				covered[fmt.Sprint(c.route, " ", c.status)] = true
				mu.Unlock()
				doc.checkResponse(t, ptr, res)
				if res.Code < 300 && r.body != "" {
					doc.checkRequest(t, op, r)
				}
				if c.check != nil {
					c.check(t, e, res)
				}
			})
		}
	})
	// Every documented pair must have been driven: a response the document
	// promises but no test produces is an untested promise.
	var missing []string
	for pattern, op := range ops {
		for _, status := range doc.documentedStatuses(op) {
			if key := fmt.Sprint(pattern, " ", status); !covered[key] {
				missing = append(missing, key)
			}
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		t.Errorf("documented responses no contract case drives (add one to contractCases): %v", missing)
	}
}

// Every path answers the methods it does not serve with the document's
// MethodNotAllowed response, its Allow listing what the document lists; a
// path that matches no route answers the NotFound response.
func TestOpenAPIOtherMethodsAndPaths(t *testing.T) {
	t.Parallel()
	doc := loadAPIDoc(t)
	e := newEnv(t, nil)
	paths, _ := doc.root["paths"].(map[string]any)
	for path, item := range paths {
		item, _ := item.(map[string]any)
		var allowed []string
		for _, m := range methods {
			if _, ok := item[m]; ok {
				allowed = append(allowed, strings.ToUpper(m))
				if m == "get" {
					allowed = append(allowed, "HEAD")
				}
			}
		}
		slices.Sort(allowed)
		target := strings.ReplaceAll(path, "{id}", someID)
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			if slices.Contains(allowed, m) {
				continue
			}
			t.Run(m+" "+path, func(t *testing.T) {
				res := e.do(req{method: m, target: target, token: e.token(keyFull)})
				if res.Code != http.StatusMethodNotAllowed {
					t.Fatalf("status: got %d, want 405", res.Code)
				}
				doc.checkResponse(t, "/components/responses/MethodNotAllowed", res)
				if got, want := res.Header.Get("Allow"), strings.Join(allowed, ", "); got != want {
					t.Errorf("Allow: got %q, want the document's methods %q", got, want)
				}
			})
		}
	}
	res := e.do(req{method: "GET", target: "/no/such/route"})
	if res.Code != http.StatusNotFound {
		t.Fatalf("unknown path: got %d, want 404", res.Code)
	}
	doc.checkResponse(t, "/components/responses/NotFound", res)
}

// The document and the route table agree both ways, and each operation
// says what the table says about it.
func TestOpenAPIRoutesMatchTable(t *testing.T) {
	t.Parallel()
	doc := loadAPIDoc(t)
	ops := doc.operations()
	inTable := map[string]bool{}
	for _, rt := range routes.Table {
		inTable[rt.Pattern()] = true
		op, ok := ops[rt.Pattern()]
		if !ok {
			t.Errorf("route %s is not in the OpenAPI document (pkg/openapi/openapi.json): document it", rt.Pattern())
			continue
		}
		if got, _ := op.op["summary"].(string); got != rt.Summary {
			t.Errorf("%s: summary: got %q, want routes.Table's %q", rt.Pattern(), got, rt.Summary)
		}
		checkSecurity(t, rt, op)
	}
	for pattern := range ops {
		if !inTable[pattern] {
			t.Errorf("the OpenAPI document has %s, which routes.Table does not serve", pattern)
		}
	}
}

// checkSecurity holds an operation's security to the route's: none for a
// public route, otherwise every requirement asks for exactly its scope.
func checkSecurity(t *testing.T, rt routes.Route, op operation) {
	t.Helper()
	sec, present := op.op["security"].([]any)
	if rt.Public {
		if !present || len(sec) != 0 {
			t.Errorf("%s is public: want security: [], got %v", rt.Pattern(), op.op["security"])
		}
		return
	}
	if len(sec) == 0 {
		t.Errorf("%s needs a token: want a security requirement, got %v", rt.Pattern(), op.op["security"])
		return
	}
	want := []string{}
	if rt.Scope != "" {
		want = []string{rt.Scope}
	}
	for _, r := range sec {
		req, _ := r.(map[string]any)
		for scheme, scopes := range req {
			var got []string
			for _, s := range scopes.([]any) {
				got = append(got, s.(string))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: security %s: got scopes %v, want %v", rt.Pattern(), scheme, got, want)
			}
		}
	}
}

// The document's structure follows the conventions the page and the
// contract rely on.
func TestOpenAPIDocumentConventions(t *testing.T) {
	t.Parallel()
	doc := loadAPIDoc(t)
	tags := map[string]bool{}
	for _, tg := range doc.root["tags"].([]any) {
		tags[tg.(map[string]any)["name"].(string)] = true
	}
	ids := map[string]string{}
	pathParam := regexp.MustCompile(`\{([^}]+)\}`)
	for pattern, op := range doc.operations() {
		id, _ := op.op["operationId"].(string)
		if id == "" {
			t.Errorf("%s has no operationId", pattern)
		} else if other, dup := ids[id]; dup {
			t.Errorf("%s and %s share operationId %q", pattern, other, id)
		}
		ids[id] = pattern
		opTags, _ := op.op["tags"].([]any)
		if len(opTags) == 0 {
			t.Errorf("%s has no tags", pattern)
		}
		for _, tg := range opTags {
			if !tags[tg.(string)] {
				t.Errorf("%s: tag %q is not declared in the top-level tags", pattern, tg)
			}
		}
		// Path parameters are declared at the path or the operation.
		path := strings.SplitN(pattern, " ", 2)[1]
		declared := map[string]bool{}
		pathItemPtr := op.ptr[:strings.LastIndex(op.ptr, "/")]
		for _, ptr := range []string{ptrJoin(pathItemPtr, "parameters"), ptrJoin(op.ptr, "parameters")} {
			params, _ := doc.at(ptr).([]any)
			for i := range params {
				p, _ := doc.object(t, fmt.Sprintf("%s/%d", ptr, i))
				if p["in"] == "path" {
					declared[p["name"].(string)] = true
				}
				if _, ok := p["example"]; !ok {
					t.Errorf("%s: parameter %v has no example", pattern, p["name"])
				}
			}
		}
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter %q is not declared", pattern, m[1])
			}
		}
		// Every response says X-Request-Id, and every body has an example.
		for _, status := range doc.documentedStatuses(op) {
			ptr, _ := doc.responsePtr(t, pattern, status)
			resp, _ := doc.object(t, ptr)
			headers, _ := resp["headers"].(map[string]any)
			if _, ok := headers["X-Request-Id"]; !ok {
				t.Errorf("%s %d: response does not declare X-Request-Id", pattern, status)
			}
			content, _ := resp["content"].(map[string]any)
			for mt, media := range content {
				if !hasExample(media) {
					t.Errorf("%s %d %s: no example", pattern, status, mt)
				}
			}
		}
		if rb, _ := doc.object(t, ptrJoin(op.ptr, "requestBody")); rb != nil {
			content, _ := rb["content"].(map[string]any)
			for mt, media := range content {
				if !hasExample(media) {
					t.Errorf("%s request %s: no example", pattern, mt)
				}
			}
		}
	}
}

func hasExample(media any) bool {
	m, _ := media.(map[string]any)
	_, one := m["example"]
	_, many := m["examples"]
	return one || many
}

// Every example in the document is valid against the schema beside it, so
// what a reader copies from the reference page works.
func TestOpenAPIExamplesMatchSchemas(t *testing.T) {
	t.Parallel()
	doc := loadAPIDoc(t)
	checked := 0
	var walk func(ptr string, node any)
	walk = func(ptr string, node any) {
		switch n := node.(type) {
		case map[string]any:
			if _, ok := n["schema"].(map[string]any); ok { // a media type, parameter or header
				schemaPtr := ptrJoin(ptr, "schema")
				if ex, ok := n["example"]; ok {
					checked++
					if err := doc.validate(t, schemaPtr, ex); err != nil {
						t.Errorf("%s/example: %v", ptr, err)
					}
				}
				if exs, ok := n["examples"].(map[string]any); ok {
					for name := range exs {
						ex, _ := doc.object(t, ptrJoin(ptr, "examples", name))
						checked++
						if err := doc.validate(t, schemaPtr, ex["value"]); err != nil {
							t.Errorf("%s/examples/%s: %v", ptr, name, err)
						}
					}
				}
			}
			for k, v := range n {
				if k == "example" || k == "examples" {
					continue
				}
				walk(ptrJoin(ptr, k), v)
			}
		case []any:
			for i, v := range n {
				walk(fmt.Sprintf("%s/%d", ptr, i), v)
			}
		}
	}
	walk("", doc.root)
	// Schema-level examples of the named schemas.
	schemas, _ := doc.at("/components/schemas").(map[string]any)
	for name, s := range schemas {
		exs, _ := s.(map[string]any)["examples"].([]any)
		for i, ex := range exs {
			checked++
			if err := doc.validate(t, ptrJoin("/components/schemas", name), ex); err != nil {
				t.Errorf("/components/schemas/%s/examples/%d: %v", name, i, err)
			}
		}
	}
	if checked < 30 {
		t.Errorf("checked %d examples; the walk is probably broken", checked)
	}
}

// The Problem schema's code enum is exactly the codes the server can
// answer with.
func TestOpenAPIProblemCodes(t *testing.T) {
	t.Parallel()
	doc := loadAPIDoc(t)
	var documented []string
	for _, c := range doc.at("/components/schemas/Problem/properties/code/enum").([]any) {
		documented = append(documented, c.(string))
	}
	slices.Sort(documented)
	var served []string
	for _, c := range httpapi.ProblemCodes() {
		served = append(served, string(c))
	}
	if !slices.Equal(documented, served) {
		t.Errorf("Problem.code enum: got %v, want the status table's codes %v", documented, served)
	}
}

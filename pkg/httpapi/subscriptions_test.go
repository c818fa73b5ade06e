package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/httpapi"
	"github.com/triggershq/triggers/pkg/webhook"
)

// TestSubscriptionBadInput sends every kind of bad request to the
// subscription routes and checks each gets its specific 4xx as
// problem+json, never a 5xx.
func TestSubscriptionBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	existing := e.subscribe(t, hookURL, `["order.*"]`)
	var ids event.IDs
	unknown := ids.New(e.clock.Now())
	const (
		created   = http.StatusCreated
		ok        = http.StatusOK
		noContent = http.StatusNoContent
		malformed = http.StatusBadRequest
		invalid   = http.StatusUnprocessableEntity
		notFound  = http.StatusNotFound
		notAllow  = http.StatusMethodNotAllowed
	)
	sub := func(name, b string, status int, code event.Code, loc ...string) badCase {
		return badCase{name: "create/" + name, r: req{method: "POST", target: "/subscriptions", header: jsonCT, body: b}, key: keySubs, status: status, code: code, loc: loc}
	}
	target := func(name, url string, status int) badCase {
		c := sub("target_url "+name, `{"target_url":`+quote(url)+`}`, status, "")
		if status == invalid {
			c.code, c.loc = event.CodeInvalid, []string{"body", "target_url"}
		}
		return c
	}
	types := func(name, list string, status int) badCase {
		c := sub("event_types "+name, `{"target_url":"https://a.example/","event_types":`+list+`}`, status, "")
		if status == invalid {
			c.code, c.loc = event.CodeInvalid, []string{"body", "event_types"}
		}
		return c
	}
	ct := func(name, contentType string) badCase {
		h := hdr()
		if contentType != "-" {
			h.Set("Content-Type", contentType)
		}
		return badCase{name: "create/content-type " + name, r: req{method: "POST", target: "/subscriptions", header: h, body: `{"target_url":"https://a.example/"}`},
			key: keySubs, status: http.StatusUnsupportedMediaType, code: httpapi.CodeUnsupportedMedia}
	}
	one := func(name, method, path string, status int, code event.Code) badCase {
		return badCase{name: name, r: req{method: method, target: path}, key: keySubs, status: status, code: code}
	}
	deliveries := func(name, query string, status int, code event.Code, loc ...string) badCase {
		return badCase{name: "deliveries/" + name, r: req{method: "GET", target: "/subscriptions/" + existing.ID + "/deliveries?" + query}, key: keySubs, status: status, code: code, loc: loc}
	}
	pattern := func(n int) string {
		p := make([]string, n)
		for i := range p {
			p[i] = quote(fmt.Sprintf("t%d", i))
		}
		return "[" + strings.Join(p, ",") + "]"
	}

	cases := []badCase{
		// Framing and syntax: 400.
		sub("empty body", "", malformed, httpapi.CodeMalformedJSON),
		sub("not json", "target_url=https://a.example/", malformed, httpapi.CodeMalformedJSON),
		sub("truncated", `{"target_url":"https://a.example/"`, malformed, httpapi.CodeMalformedJSON),
		sub("trailing garbage", `{"target_url":"https://a.example/"} x`, malformed, httpapi.CodeMalformedJSON),
		sub("NUL byte", "\x00", malformed, httpapi.CodeMalformedJSON),

		// The wrong shape: 422.
		sub("top-level array", `[{"target_url":"https://a.example/"}]`, invalid, event.CodeInvalid, "body"),
		sub("top-level string", `"https://a.example/"`, invalid, event.CodeInvalid, "body"),
		sub("empty object", `{}`, invalid, event.CodeInvalid, "body", "target_url"),
		sub("target_url duplicated", `{"target_url":"https://a.example/","target_url":"http://127.0.0.1/"}`, invalid, event.CodeInvalid, "body", "target_url"),
		sub("event_types duplicated", `{"target_url":"https://a.example/","event_types":[],"event_types":["a"]}`, invalid, event.CodeInvalid, "body", "event_types"),
		sub("everything wrong at once", `{"target_url":5,"event_types":"a"}`, invalid, event.CodeInvalid, "body", "event_types"),
		sub("target_url number", `{"target_url":5}`, invalid, event.CodeInvalid, "body", "target_url"),
		sub("target_url null", `{"target_url":null}`, invalid, event.CodeInvalid, "body", "target_url"),
		sub("target_url array", `{"target_url":["https://a.example/"]}`, invalid, event.CodeInvalid, "body", "target_url"),
		sub("target_url invalid UTF-8", "{\"target_url\":\"https://a.example/\xff\"}", invalid, event.CodeInvalid, "body", "target_url"),
		sub("target_url lone surrogate", `{"target_url":"https://a.example/\ud800"}`, invalid, event.CodeInvalid, "body", "target_url"),
		target("empty", "", invalid),
		target("relative", "/hooks/1", invalid),
		target("no scheme", "a.example/hook", invalid),
		target("ftp", "ftp://a.example/", invalid),
		target("javascript", "javascript:alert(1)", invalid),
		target("file", "file:///etc/passwd", invalid),
		target("no host", "http:///path", invalid),
		target("opaque", "http:a.example", invalid),
		target("user info", "https://user:pw@a.example/", invalid),
		target("user only", "https://user@a.example/", invalid),
		target("fragment", "https://a.example/#x", invalid),
		target("port 0", "https://a.example:0/", invalid),
		target("port too big", "https://a.example:65536/", invalid),
		target("port not a number", "https://a.example:http/", invalid),
		target("space", "https://a.example/a b", invalid),
		target("tab", "https://a.example/\tb", invalid),
		target("newline", "https://a.example/\nb", invalid),
		target("non-ASCII host", "https://exämple.com/", invalid),
		target("too long", "https://a.example/"+strings.Repeat("p", event.MaxTargetURLLen), invalid),
		target("short IPv4", "http://127.1/", invalid),
		target("decimal IPv4", "http://2130706433/", invalid),
		target("hex IPv4", "http://0x7f000001/", invalid),
		target("octal IPv4", "http://0177.0.0.1/", invalid),
		target("IPv6 zone", "http://[fe80::1%25eth0]/", invalid),
		target("bad IPv6", "http://[::zz]/", invalid),
		target("empty label", "http://a..example/", invalid),
		target("at the length limit", "https://a.example/"+strings.Repeat("p", event.MaxTargetURLLen-len("https://a.example/")), created),
		target("upper-case scheme", "HTTPS://A.EXAMPLE/Hook?x=1&y=%20", created),
		target("IPv6 literal and port", "http://[2001:db8::1]:8443/h", created),
		target("loopback without a checker", "http://127.0.0.1:9/h", created),
		types("string", `"order.*"`, invalid),
		types("object", `{"a":1}`, invalid),
		types("number item", `[1]`, invalid),
		types("null item", `[null]`, invalid),
		types("empty item", `[""]`, invalid),
		types("star inside", `["a*b"]`, invalid),
		types("star first", `["*a"]`, invalid),
		types("two stars", `["a**"]`, invalid),
		types("control character", `["a\u0001"]`, invalid),
		types("line separator", `["a\u2028"]`, invalid),
		types("invalid UTF-8", "[\"a\xff\"]", invalid),
		types("lone surrogate", `["a\ud800"]`, invalid),
		types("too long", `[`+quote(strings.Repeat("t", event.MaxTypeLen+1))+`]`, invalid),
		types("51 patterns", pattern(event.MaxEventTypePatterns+1), invalid),
		types("50 patterns", pattern(event.MaxEventTypePatterns), created),
		types("null", `null`, created),
		types("empty", `[]`, created),
		types("duplicates", `["a","a","b.*"]`, created),
		types("everything", `["*"]`, created),
		types("unicode", `["commande.créée"]`, created),
		types("at the length limit", `[`+quote(strings.Repeat("t", event.MaxTypeLen))+`]`, created),
		sub("unknown members ignored", `{"target_url":"https://a.example/","secret":"whsec_mine","id":"x","x":[1],"x":2}`, created, ""),
		sub("BOM is tolerated", "\xef\xbb\xbf"+`{"target_url":"https://a.example/"}`, created, ""),

		// Media type and size.
		ct("missing", "-"),
		ct("text/plain", "text/plain"),
		ct("form", "application/x-www-form-urlencoded"),
		ct("latin1", "application/json; charset=iso-8859-1"),
		{name: "create/gzip", r: req{method: "POST", target: "/subscriptions", body: `{"target_url":"https://a.example/"}`,
			header: hdr("Content-Type", "application/json", "Content-Encoding", "gzip")}, key: keySubs, status: http.StatusUnsupportedMediaType, code: httpapi.CodeUnsupportedMedia},
		{name: "create/over 64 KiB", r: req{method: "POST", target: "/subscriptions", header: jsonCT,
			body: `{"target_url":"https://a.example/","pad":"` + strings.Repeat("x", 64<<10) + `"}`}, key: keySubs, status: http.StatusRequestEntityTooLarge, code: event.CodeTooLarge},
		{name: "create/over 64 KiB, chunked", r: req{method: "POST", target: "/subscriptions", header: jsonCT, chunked: true,
			body: `{"target_url":"https://a.example/","pad":"` + strings.Repeat("x", 64<<10) + `"}`}, key: keySubs, status: http.StatusRequestEntityTooLarge, code: event.CodeTooLarge},

		// Scopes and tokens: every route needs subscriptions:manage.
		{name: "scope/create with events token", r: req{method: "POST", target: "/subscriptions", header: jsonCT, body: `{"target_url":"https://a.example/"}`}, key: keyWrite, status: http.StatusForbidden, code: event.CodeForbidden},
		{name: "scope/list with read token", r: req{method: "GET", target: "/subscriptions"}, key: keyRead, status: http.StatusForbidden, code: event.CodeForbidden},
		{name: "scope/get with ack token", r: req{method: "GET", target: "/subscriptions/" + existing.ID}, key: keyAck, status: http.StatusForbidden, code: event.CodeForbidden},
		{name: "scope/delete with read token", r: req{method: "DELETE", target: "/subscriptions/" + existing.ID}, key: keyRead, status: http.StatusForbidden, code: event.CodeForbidden},
		{name: "scope/deliveries with write token", r: req{method: "GET", target: "/subscriptions/" + existing.ID + "/deliveries"}, key: keyWrite, status: http.StatusForbidden, code: event.CodeForbidden},
		{name: "scope/no token", r: req{method: "GET", target: "/subscriptions"}, status: http.StatusUnauthorized, code: event.CodeUnauthorized},
		{name: "scope/full token", r: req{method: "GET", target: "/subscriptions"}, key: keyFull, status: ok},

		// Ids.
		one("get/malformed id", "GET", "/subscriptions/abc", notFound, event.CodeNotFound),
		one("get/uuid v4", "GET", "/subscriptions/2b1f5c3e-8a4d-4c1e-9f3a-1d2e3f4a5b6c", notFound, event.CodeNotFound),
		one("get/unknown v7", "GET", "/subscriptions/"+unknown, notFound, event.CodeNotFound),
		one("get/an event's id", "GET", "/subscriptions/"+e.createEvent(e.token(keyFull), "a", "b", `{}`), notFound, event.CodeNotFound),
		one("get/upper case id", "GET", "/subscriptions/"+strings.ToUpper(existing.ID), ok, ""),
		one("get/encoded slash", "GET", "/subscriptions/"+existing.ID[:8]+"%2F"+existing.ID[9:], notFound, event.CodeNotFound),
		one("get/very long id", "GET", "/subscriptions/"+strings.Repeat("f", 100_000), notFound, event.CodeNotFound),
		one("get/NUL", "GET", "/subscriptions/%00", notFound, event.CodeNotFound),
		one("delete/malformed id", "DELETE", "/subscriptions/abc", notFound, event.CodeNotFound),
		one("delete/unknown v7", "DELETE", "/subscriptions/"+unknown, notFound, event.CodeNotFound),
		one("deliveries/malformed id", "GET", "/subscriptions/abc/deliveries", notFound, event.CodeNotFound),
		one("deliveries/unknown v7", "GET", "/subscriptions/"+unknown+"/deliveries", notFound, event.CodeNotFound),
		{name: "delete/body ignored", r: req{method: "DELETE", target: "/subscriptions/" + e.subscribe(t, hookURL, "").ID, header: hdr("Content-Type", "text/plain"), body: "\x00junk"}, key: keySubs, status: noContent},

		// Deliveries query.
		deliveries("limit 0", "limit=0", invalid, event.CodeInvalid, "query", "limit"),
		deliveries("limit 101", "limit=101", invalid, event.CodeInvalid, "query", "limit"),
		deliveries("limit negative", "limit=-1", invalid, event.CodeInvalid, "query", "limit"),
		deliveries("limit word", "limit=ten", invalid, event.CodeInvalid, "query", "limit"),
		deliveries("limit empty", "limit=", invalid, event.CodeInvalid, "query", "limit"),
		deliveries("limit huge", "limit=99999999999999999999", invalid, event.CodeInvalid, "query", "limit"),
		deliveries("limit repeated", "limit=1&limit=2", invalid, event.CodeInvalid, "query", "limit"),
		deliveries("bad escape", "limit=%zz", invalid, event.CodeInvalid, "query"),
		deliveries("semicolon", "limit=1;x=2", invalid, event.CodeInvalid, "query"),
		deliveries("limit 1", "limit=1", ok, ""),
		deliveries("limit 100", "limit=100", ok, ""),
		deliveries("unknown parameter ignored", "cursor=zzz&_=1", ok, ""),

		// Paths and methods.
		one("method/PUT subscriptions", "PUT", "/subscriptions", notAllow, httpapi.CodeMethodNotAllowed),
		one("method/DELETE subscriptions", "DELETE", "/subscriptions", notAllow, httpapi.CodeMethodNotAllowed),
		one("method/POST subscription", "POST", "/subscriptions/"+existing.ID, notAllow, httpapi.CodeMethodNotAllowed),
		one("method/PATCH subscription", "PATCH", "/subscriptions/"+existing.ID, notAllow, httpapi.CodeMethodNotAllowed),
		one("method/POST deliveries", "POST", "/subscriptions/"+existing.ID+"/deliveries", notAllow, httpapi.CodeMethodNotAllowed),
		one("path/trailing slash", "GET", "/subscriptions/", notFound, event.CodeNotFound),
		one("path/extra segment", "GET", "/subscriptions/"+existing.ID+"/deliveries/x", notFound, event.CodeNotFound),
	}
	runBadCases(t, e, cases)
}

// TestSubscriptionLifecycle goes through what Zapier does: subscribe, read,
// list, read the attempts, unsubscribe, unsubscribe again.
func TestSubscriptionLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.token(keySubs)
	created := e.subscribe(t, hookURL, `["order.*","order.*","invoice.paid"]`)
	if !strings.HasPrefix(created.Secret, event.SecretPrefix) || len(created.Secret) != len(event.SecretPrefix)+44 {
		t.Fatalf("secret: got %d characters, want whsec_ and 44 base64 characters", len(created.Secret))
	}
	if created.Status != "active" || !slices.Equal(created.EventTypes, []string{"order.*", "invoice.paid"}) || created.TargetURL != hookURL {
		t.Fatalf("created: %+v", created)
	}
	if created.CreatedAt != "2026-11-28T10:00:00Z" || created.UpdatedAt != created.CreatedAt {
		t.Fatalf("times: created_at %q updated_at %q, want the clock's 2026-11-28T10:00:00Z", created.CreatedAt, created.UpdatedAt)
	}
	e.clock.Advance(time.Second)
	all := e.subscribe(t, "https://b.example/", "")
	if all.EventTypes == nil || len(all.EventTypes) != 0 {
		t.Fatalf("no event_types: got %v, want []", all.EventTypes)
	}

	// Reads never show the secret: not as a member, nor its value anywhere.
	for _, target := range []string{"/subscriptions/" + created.ID, "/subscriptions"} {
		res := e.do(req{method: "GET", target: target, token: tok})
		res.wantStatus(t, http.StatusOK)
		if strings.Contains(string(res.Body), "secret") || strings.Contains(string(res.Body), created.Secret[len(event.SecretPrefix):]) {
			t.Fatalf("GET %s shows the secret: %s", target, res.Body)
		}
	}
	var got subJSON
	e.do(req{method: "GET", target: "/subscriptions/" + created.ID, token: tok}).json(t, &got)
	created.Secret = ""
	if fmt.Sprint(got) != fmt.Sprint(created) {
		t.Fatalf("GET: got %+v, want %+v", got, created)
	}
	var list []subJSON
	e.do(req{method: "GET", target: "/subscriptions", token: tok}).json(t, &list)
	if len(list) != 2 || list[0].ID != created.ID || list[1].ID != all.ID {
		t.Fatalf("list: got %+v, want the two, oldest first", list)
	}

	// Attempts, newest first, with every field.
	attempts := e.recordAttempts(t, created.ID, 3)
	res := e.do(req{method: "GET", target: "/subscriptions/" + created.ID + "/deliveries?limit=2", token: tok})
	res.wantStatus(t, http.StatusOK)
	var page []map[string]any
	res.json(t, &page)
	if len(page) != 2 {
		t.Fatalf("deliveries?limit=2: got %d, want 2", len(page))
	}
	newest, older := attempts[2], attempts[1]
	want := []map[string]any{
		{"delivery_id": newest.DeliveryID, "subscription_id": created.ID, "event_id": newest.EventID, "attempt": 3.0,
			"at": newest.At.Format(time.RFC3339Nano), "status_code": 200.0, "outcome": "success", "latency_ms": 1500.0},
		{"delivery_id": older.DeliveryID, "subscription_id": created.ID, "event_id": older.EventID, "attempt": 2.0,
			"at": older.At.Format(time.RFC3339Nano), "status_code": 503.0, "error": "HTTP 503", "outcome": "retry", "latency_ms": 1500.0},
	}
	if fmt.Sprint(page) != fmt.Sprint(want) {
		t.Fatalf("deliveries:\ngot  %v\nwant %v", page, want)
	}
	var none []any
	e.do(req{method: "GET", target: "/subscriptions/" + all.ID + "/deliveries", token: tok}).json(t, &none)
	if none == nil || len(none) != 0 {
		t.Fatalf("deliveries of a subscription without attempts: got %v, want []", none)
	}

	// Unsubscribe: 204, then the subscription and its deliveries are 404.
	e.do(req{method: "DELETE", target: "/subscriptions/" + created.ID, token: tok}).wantStatus(t, http.StatusNoContent)
	for _, r := range []req{
		{method: "DELETE", target: "/subscriptions/" + created.ID},
		{method: "GET", target: "/subscriptions/" + created.ID},
		{method: "GET", target: "/subscriptions/" + created.ID + "/deliveries"},
	} {
		r.token = tok
		if res := e.do(r); res.Code != http.StatusNotFound {
			t.Fatalf("%s %s after DELETE: got %d, want 404", r.method, r.target, res.Code)
		}
	}
	e.do(req{method: "GET", target: "/subscriptions", token: tok}).json(t, &list)
	if len(list) != 1 || list[0].ID != all.ID {
		t.Fatalf("list after DELETE: got %+v", list)
	}
}

// TestSubscriptionSecretsStayOutOfLogs: neither the secret nor the target
// URL's path and query (a capability) reaches the log.
func TestSubscriptionSecretsStayOutOfLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const capability = "https://hooks.example.com/hooks/catch/123/s3cr3tpath/?token=q5u3ry"
	s := e.subscribe(t, capability, "")
	e.do(req{method: "GET", target: "/subscriptions/" + s.ID, token: e.token(keySubs)}).wantStatus(t, http.StatusOK)
	e.do(req{method: "DELETE", target: "/subscriptions/" + s.ID, token: e.token(keySubs)}).wantStatus(t, http.StatusNoContent)
	logs := e.logs.String()
	for _, secret := range []string{s.Secret, s.Secret[len(event.SecretPrefix):], "s3cr3tpath", "q5u3ry"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("the log holds %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, "hooks.example.com") {
		t.Errorf("the log should name the target's host; got:\n%s", logs)
	}
}

// TestSubscriptionSSRF: with the webhook sender as TargetChecker, targets
// that are or resolve to non-public addresses are a 422 with the fixed
// message on target_url, and the log says why; public ones are stored.
func TestSubscriptionSSRF(t *testing.T) {
	t.Parallel()
	names := map[string][]string{
		"public.example":   {"93.184.215.14"},
		"internal.example": {"10.1.2.3"},
		"mixed.example":    {"93.184.215.14", "127.0.0.1"},
		"mapped.example":   {"::ffff:169.254.169.254"},
		"v6.example":       {"2606:2800:21f:cb07:6820:80da:af6b:8b2c"},
		"ula.example":      {"fd00:ec2::254"},
	}
	resolver := webhook.ResolverFunc(func(_ context.Context, _, host string) ([]netip.Addr, error) {
		addrs, ok := names[host]
		if !ok {
			return nil, errors.New("no such host")
		}
		out := make([]netip.Addr, len(addrs))
		for i, a := range addrs {
			out[i] = netip.MustParseAddr(a)
		}
		return out, nil
	})
	e := newEnv(t, nil, func(c *httpapi.Config) {
		c.TargetChecker = webhook.NewSender(webhook.Options{Resolver: resolver})
	})
	cases := []struct {
		url    string
		status int
		detail string
	}{
		{"https://public.example/hook", http.StatusCreated, ""},
		{"https://v6.example/hook", http.StatusCreated, ""},
		{"https://93.184.215.14:8443/hook", http.StatusCreated, ""},
		{"http://127.0.0.1:8080/hook", http.StatusUnprocessableEntity, "public internet addresses"},
		{"http://localhost/hook", http.StatusUnprocessableEntity, "could not be resolved"},
		{"http://[::1]/hook", http.StatusUnprocessableEntity, "public internet addresses"},
		{"http://0.0.0.0/hook", http.StatusUnprocessableEntity, "public internet addresses"},
		{"http://169.254.169.254/latest/meta-data/", http.StatusUnprocessableEntity, "public internet addresses"},
		{"http://[::ffff:127.0.0.1]/hook", http.StatusUnprocessableEntity, "public internet addresses"},
		{"http://[fd00:ec2::254]/", http.StatusUnprocessableEntity, "public internet addresses"},
		{"http://192.168.1.1/", http.StatusUnprocessableEntity, "public internet addresses"},
		{"https://internal.example/hook", http.StatusUnprocessableEntity, "public internet addresses"},
		{"https://mixed.example/hook", http.StatusUnprocessableEntity, "public internet addresses"},
		{"https://mapped.example/hook", http.StatusUnprocessableEntity, "public internet addresses"},
		{"https://ula.example/hook", http.StatusUnprocessableEntity, "public internet addresses"},
		{"https://nxdomain.example/hook", http.StatusUnprocessableEntity, "could not be resolved"},
	}
	var mu sync.Mutex
	details := map[string]bool{}
	t.Run("cases", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.url, func(t *testing.T) {
				t.Parallel()
				res := e.do(req{method: "POST", target: "/subscriptions", token: e.token(keySubs), header: jsonCT, body: `{"target_url":` + quote(tc.url) + `}`})
				res.wantStatus(t, tc.status)
				if tc.status == http.StatusCreated {
					return
				}
				p := res.problem(t)
				if !strings.Contains(p.Detail, tc.detail) || len(p.Errors) != 1 || !slices.Equal(p.Errors[0].Loc, []string{"body", "target_url"}) {
					t.Fatalf("problem: got %+v, want %q at [body target_url]", p, tc.detail)
				}
				// The answer never says which address was refused: every
				// refusal of an address has the same fixed detail.
				for _, leak := range []string{"10.1.2.3", "127.0.0.1", "::1", "fd00", "169.254", "192.168", "0.0.0.0"} {
					if strings.Contains(p.Detail, leak) {
						t.Fatalf("detail %q reveals %q", p.Detail, leak)
					}
				}
				if tc.detail == "public internet addresses" {
					mu.Lock()
					details[p.Detail] = true
					mu.Unlock()
				}
			})
		}
	})
	if len(details) != 1 {
		t.Errorf("address refusals have %d different details, want one fixed message: %v", len(details), details)
	}
	if !strings.Contains(e.logs.String(), "subscription target refused") {
		t.Error("refusals are not logged")
	}
	var list []subJSON
	e.do(req{method: "GET", target: "/subscriptions", token: e.token(keySubs)}).json(t, &list)
	if len(list) != 3 {
		t.Errorf("stored %d subscriptions, want only the 3 public ones", len(list))
	}
}

// TestSubscriptionCap: with MaxSubscriptions stored, a create over HTTP is
// a 422 located at the request as a whole, and a delete makes room.
func TestSubscriptionCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	subs := e.store.(event.SubscriptionStore)
	var ids event.IDs
	var wg sync.WaitGroup
	errs := make(chan error, event.MaxSubscriptions)
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < event.MaxSubscriptions; i += 16 {
				now := e.clock.Now()
				s := event.NewSubscription{TargetURL: fmt.Sprintf("https://a.example/%d", i)}.Build(ids.New(now), event.NewSecret(), now)
				if err := subs.CreateSubscription(t.Context(), s); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("filling up: %v", err)
	}
	body := `{"target_url":"https://one-too-many.example/"}`
	res := e.do(req{method: "POST", target: "/subscriptions", token: e.token(keySubs), header: jsonCT, body: body})
	res.wantStatus(t, http.StatusUnprocessableEntity)
	p := res.problem(t)
	if p.Code != event.CodeInvalid || len(p.Errors) != 1 || !slices.Equal(p.Errors[0].Loc, []string{"body"}) || !strings.Contains(p.Detail, "1000") {
		t.Fatalf("at the cap: got %+v", p)
	}
	var list []json.RawMessage
	e.do(req{method: "GET", target: "/subscriptions", token: e.token(keySubs)}).json(t, &list)
	if len(list) != event.MaxSubscriptions {
		t.Fatalf("list at the cap: got %d, want %d", len(list), event.MaxSubscriptions)
	}
	var first subJSON
	if err := json.Unmarshal(list[0], &first); err != nil {
		t.Fatal(err)
	}
	e.do(req{method: "DELETE", target: "/subscriptions/" + first.ID, token: e.token(keySubs)}).wantStatus(t, http.StatusNoContent)
	e.do(req{method: "POST", target: "/subscriptions", token: e.token(keySubs), header: jsonCT, body: body}).wantStatus(t, http.StatusCreated)
}

// TestSubscriptionsWithoutAStore: a deployment wired with a store that
// keeps no subscriptions answers those routes 500 (miswired), never
// panics, and serves the others.
func TestSubscriptionsWithoutAStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(s event.Store) event.Store { return &faultStore{Store: s} })
	e.allow5xx = true
	for _, r := range []req{
		{method: "POST", target: "/subscriptions", header: jsonCT, body: `{"target_url":"https://a.example/"}`},
		{method: "GET", target: "/subscriptions"},
		{method: "GET", target: "/subscriptions/" + someID},
		{method: "DELETE", target: "/subscriptions/" + someID},
		{method: "GET", target: "/subscriptions/" + someID + "/deliveries"},
	} {
		r.token = e.token(keySubs)
		if res := e.do(r); res.Code != http.StatusInternalServerError {
			t.Errorf("%s %s: got %d, want 500", r.method, r.target, res.Code)
		}
	}
	e.createEvent(e.token(keyFull), "still", "works", `{}`)
}

package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/triggershq/triggers/pkg/event"
)

// subscriptionContractCases drives every documented (route, status) pair
// of the /subscriptions routes; contractCases includes them.
func subscriptionContractCases() []contractCase {
	const (
		create  = "POST /subscriptions"
		list    = "GET /subscriptions"
		get     = "GET /subscriptions/{id}"
		del     = "DELETE /subscriptions/{id}"
		attempt = "GET /subscriptions/{id}/deliveries"
		badAuth = "Bearer not.a.token"
	)
	subBody := `{"target_url":"https://hooks.example.com/zap/1","event_types":["order.*","invoice.paid"]}`
	post := func(key, body string, h http.Header) func(*testing.T, *env) req {
		if h == nil {
			h = jsonCT
		}
		return simple("POST", "/subscriptions", key, h, body)
	}
	existing := func(method, suffix, key string) func(*testing.T, *env) req {
		return func(t *testing.T, e *env) req {
			s := e.subscribe(t, hookURL, `["order.*"]`)
			return req{method: method, target: "/subscriptions/" + s.ID + suffix, token: e.token(key)}
		}
	}
	unknown := "/subscriptions/" + someID
	return []contractCase{
		// POST /subscriptions
		{name: "created", route: create, status: 201, req: post(keySubs, subBody, nil), check: func(t *testing.T, e *env, res response) {
			var s subJSON
			res.json(t, &s)
			if res.Header.Get("Location") != "/subscriptions/"+s.ID || !strings.HasPrefix(s.Secret, "whsec_") {
				t.Errorf("Location %q, secret shown %v; want /subscriptions/%s and a whsec_ secret", res.Header.Get("Location"), s.Secret != "", s.ID)
			}
		}},
		{name: "every type, public target checked", route: create, status: 201,
			setup: func(t *testing.T) *env { return newEnv(t, nil, withTargetChecker) },
			req:   post(keySubs, `{"target_url":"https://93.184.215.14/hook"}`, nil)},
		{name: "malformed", route: create, status: 400, req: post(keySubs, `{"target_url":`, nil)},
		{name: "no token", route: create, status: 401, req: post("", subBody, nil)},
		{name: "bad token", route: create, status: 401, req: post("", subBody, hdr("Content-Type", "application/json", "Authorization", badAuth))},
		{name: "events token", route: create, status: 403, req: post(keyWrite, subBody, nil)},
		{name: "too large", route: create, status: 413, req: post(keySubs, `{"target_url":"https://a.example/","x":"`+strings.Repeat("x", 70<<10)+`"}`, nil)},
		{name: "form body", route: create, status: 415, req: post(keySubs, subBody, formCT())},
		{name: "invalid fields", route: create, status: 422, req: post(keySubs, `{"target_url":"ftp://x","event_types":["a","b*c"]}`, nil)},
		{name: "private target", route: create, status: 422,
			setup: func(t *testing.T) *env { return newEnv(t, nil, withTargetChecker) },
			req:   post(keySubs, `{"target_url":"http://169.254.169.254/latest/meta-data/"}`, nil)},
		{name: "at the cap", route: create, status: 422,
			setup: withSubFaults(faultSubs{create: func() error {
				return event.Invalid("subscriptions", "there are already %d subscriptions, the most this server keeps; delete one first", event.MaxSubscriptions)
			}}),
			req: post(keySubs, subBody, nil)},
		{name: "store throttling", route: create, status: 503, setup: withSubFaults(faultSubs{create: errStoreDown}), req: post(keySubs, subBody, nil)},
		{name: "store bug", route: create, status: 500, setup: withSubFaults(faultSubs{create: errStoreBug}), req: post(keySubs, subBody, nil)},

		// GET /subscriptions
		{name: "two", route: list, status: 200, req: func(t *testing.T, e *env) req {
			e.subscribe(t, hookURL, "")
			e.clock.Advance(1e6)
			e.subscribe(t, hookURL+"?b", `["order.*"]`)
			return req{method: "GET", target: "/subscriptions", token: e.token(keySubs)}
		}},
		{name: "none", route: list, status: 200, req: simple("GET", "/subscriptions", keyFull, nil, ""), check: func(t *testing.T, e *env, res response) {
			if string(res.Body) != "[]\n" {
				t.Errorf("no subscriptions: got %q, want []", res.Body)
			}
		}},
		{name: "no token", route: list, status: 401, req: simple("GET", "/subscriptions", "", nil, "")},
		{name: "read token", route: list, status: 403, req: simple("GET", "/subscriptions", keyRead, nil, "")},
		{name: "store throttling", route: list, status: 503, setup: withSubFaults(faultSubs{list: errStoreDown}), req: simple("GET", "/subscriptions", keySubs, nil, "")},
		{name: "store bug", route: list, status: 500, setup: withSubFaults(faultSubs{list: errPlain}), req: simple("GET", "/subscriptions", keySubs, nil, "")},

		// GET /subscriptions/{id}
		{name: "found", route: get, status: 200, req: existing("GET", "", keySubs)},
		{name: "no token", route: get, status: 401, req: simple("GET", unknown, "", nil, "")},
		{name: "ack token", route: get, status: 403, req: simple("GET", unknown, keyAck, nil, "")},
		{name: "unknown", route: get, status: 404, req: simple("GET", unknown, keySubs, nil, "")},
		{name: "malformed id", route: get, status: 404, req: simple("GET", "/subscriptions/nope", keySubs, nil, "")},
		{name: "store throttling", route: get, status: 503, setup: withSubFaults(faultSubs{get: errStoreDown}), req: simple("GET", unknown, keySubs, nil, "")},
		{name: "store bug", route: get, status: 500, setup: withSubFaults(faultSubs{get: errStoreBug}), req: simple("GET", unknown, keySubs, nil, "")},

		// DELETE /subscriptions/{id}
		{name: "deleted", route: del, status: 204, req: existing("DELETE", "", keySubs), check: func(t *testing.T, e *env, res response) {
			if len(res.Body) != 0 {
				t.Errorf("204 with a body: %q", res.Body)
			}
		}},
		{name: "no token", route: del, status: 401, req: simple("DELETE", unknown, "", nil, "")},
		{name: "write token", route: del, status: 403, req: simple("DELETE", unknown, keyWrite, nil, "")},
		{name: "unknown", route: del, status: 404, req: simple("DELETE", unknown, keySubs, nil, "")},
		{name: "store throttling", route: del, status: 503, setup: withSubFaults(faultSubs{del: errStoreDown}), req: simple("DELETE", unknown, keySubs, nil, "")},
		{name: "store bug", route: del, status: 500, setup: withSubFaults(faultSubs{del: errStoreBug}), req: simple("DELETE", unknown, keySubs, nil, "")},

		// GET /subscriptions/{id}/deliveries
		{name: "attempts", route: attempt, status: 200, req: func(t *testing.T, e *env) req {
			s := e.subscribe(t, hookURL, "")
			e.recordAttempts(t, s.ID, 3)
			return req{method: "GET", target: "/subscriptions/" + s.ID + "/deliveries?limit=2", token: e.token(keySubs)}
		}},
		{name: "none yet", route: attempt, status: 200, req: existing("GET", "/deliveries", keyFull)},
		{name: "no token", route: attempt, status: 401, req: simple("GET", unknown+"/deliveries", "", nil, "")},
		{name: "read token", route: attempt, status: 403, req: simple("GET", unknown+"/deliveries", keyRead, nil, "")},
		{name: "unknown", route: attempt, status: 404, req: simple("GET", unknown+"/deliveries", keySubs, nil, "")},
		{name: "bad limit", route: attempt, status: 422, req: existing("GET", "/deliveries?limit=0", keySubs)},
		{name: "store throttling", route: attempt, status: 503, setup: withSubFaults(faultSubs{attempts: errStoreDown}), req: existing("GET", "/deliveries", keySubs)},
		{name: "store bug", route: attempt, status: 500, setup: withSubFaults(faultSubs{attempts: errStoreBug}), req: existing("GET", "/deliveries", keySubs)},
	}
}

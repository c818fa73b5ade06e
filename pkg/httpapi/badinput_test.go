package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/httpapi"
)

// badCase is one request and the answer it must get.
type badCase struct {
	name   string
	r      req
	key    string // fixture key whose token to send; "" sends none unless r.token is set
	status int
	code   event.Code // for error statuses
	loc    []string   // when set, one of the problem's errors must have this loc
}

// validBody is a POST /events body that is fine in every respect.
const validBody = `{"type":"user.created","source":"web-app","payload":{"user_id":"12345"}}`

func body(typ, source, payload string) string {
	return `{"type":` + typ + `,"source":` + source + `,"payload":` + payload + `}`
}

func nest(open, close string, depth int) string {
	return strings.Repeat(open, depth) + strings.Repeat(close, depth)
}

// TestBadInput sends every kind of bad request we could think of to every
// route and checks each gets its specific 4xx as problem+json, never a 5xx.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	existing := e.createEvent(e.token(keyFull), "seed.event", "tests", `{"a":1}`)
	var ids event.IDs
	unknown := ids.New(e.clock.Now())
	creds := e.auth.creds
	signingKey := creds.SigningKeys[creds.ActiveKID]
	fullID := e.auth.ids[keyFull]
	sign := func(method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
		t.Helper()
		tok := jwt.NewWithClaims(method, claims)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatalf("sign test token: %v", err)
		}
		return s
	}
	now := e.clock.Now().Unix()
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "triggers", "aud": "triggers-api", "sub": fullID, "iat": now, "nbf": now,
			"exp": now + 3600, "jti": "test-jti", "scope": "events:write inbox:read inbox:ack"}
		if edit != nil {
			edit(c)
		}
		return c
	}
	good := sign(jwt.SigningMethodHS256, signingKey, creds.ActiveKID, claims(nil))
	full := e.token(keyFull)
	parts := strings.Split(full, ".")
	tampered := parts[0] + "." + parts[1][:len(parts[1])-2] + flip(parts[1][len(parts[1])-2:]) + "." + parts[2]
	noneTok := sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, creds.ActiveKID, claims(nil))

	ev := func(name, b string, status int, code event.Code, loc ...string) badCase {
		return badCase{name: "events/" + name, r: req{method: "POST", target: "/events", header: jsonCT, body: b}, key: keyFull, status: status, code: code, loc: loc}
	}
	ct := func(name, contentType string, status int, code event.Code) badCase {
		h := hdr()
		if contentType != "-" {
			h.Set("Content-Type", contentType)
		}
		return badCase{name: "events/content-type " + name, r: req{method: "POST", target: "/events", header: h, body: validBody}, key: keyFull, status: status, code: code}
	}
	idem := func(name string, status int, code event.Code, keys ...string) badCase {
		h := hdr("Content-Type", "application/json")
		for _, k := range keys {
			h.Add("Idempotency-Key", k)
		}
		return badCase{name: "events/idempotency-key " + name, r: req{method: "POST", target: "/events", header: h, body: validBody}, key: keyFull, status: status, code: code, loc: []string{"header", "Idempotency-Key"}}
	}
	inbox := func(name, query string, status int, code event.Code, loc ...string) badCase {
		return badCase{name: "inbox/" + name, r: req{method: "GET", target: "/inbox?" + query}, key: keyFull, status: status, code: code, loc: loc}
	}
	get := func(name, target string, status int, code event.Code) badCase {
		return badCase{name: "get/" + name, r: req{method: "GET", target: target}, key: keyFull, status: status, code: code}
	}
	tokenReq := func(name, contentType, b string, status int, code event.Code, loc ...string) badCase {
		return badCase{name: "token/" + name, r: req{method: "POST", target: "/token", header: hdr("Content-Type", contentType), body: b}, status: status, code: code, loc: loc}
	}
	bearer := func(name, header string, status int, code event.Code) badCase {
		return badCase{name: "auth/" + name, r: req{method: "GET", target: "/inbox", header: hdr("Authorization", header)}, status: status, code: code}
	}
	const (
		created   = http.StatusCreated
		ok        = http.StatusOK
		malformed = http.StatusBadRequest
		invalid   = http.StatusUnprocessableEntity
		notFound  = http.StatusNotFound
		unauth    = http.StatusUnauthorized
	)
	long := func(n int) string { return quote(strings.Repeat("a", n)) }

	cases := []badCase{
		// Framing and syntax: 400.
		ev("empty body", "", malformed, httpapi.CodeMalformedJSON),
		ev("whitespace body", " \r\n\t ", malformed, httpapi.CodeMalformedJSON),
		ev("not json", "type=a&source=b", malformed, httpapi.CodeMalformedJSON),
		ev("truncated", `{"type":"a","source":"b","payload":{`, malformed, httpapi.CodeMalformedJSON),
		ev("trailing garbage", validBody+" x", malformed, httpapi.CodeMalformedJSON),
		ev("two objects", validBody+validBody, malformed, httpapi.CodeMalformedJSON),
		ev("single quotes", `{'type':'a'}`, malformed, httpapi.CodeMalformedJSON),
		ev("trailing comma", `{"type":"a","source":"b","payload":{},}`, malformed, httpapi.CodeMalformedJSON),
		ev("raw control char in string", body("\"a\tb\"", `"s"`, `{}`), malformed, httpapi.CodeMalformedJSON),
		ev("NaN number", body(`"a"`, `"s"`, `{"n":NaN}`), malformed, httpapi.CodeMalformedJSON),
		ev("nesting deeper than 10000", body(`"a"`, `"s"`, `{"x":`+nest("[", "]", 10001)+`}`), malformed, httpapi.CodeMalformedJSON),
		ev("BOM then garbage", "\xef\xbb\xbfnope", malformed, httpapi.CodeMalformedJSON),
		ev("NUL byte", "\x00", malformed, httpapi.CodeMalformedJSON),

		// Valid JSON of the wrong shape: 422.
		ev("top-level array", "["+validBody+"]", invalid, event.CodeInvalid, "body"),
		ev("top-level string", `"hello"`, invalid, event.CodeInvalid, "body"),
		ev("top-level null", `null`, invalid, event.CodeInvalid, "body"),
		ev("top-level number", `42`, invalid, event.CodeInvalid, "body"),
		ev("empty object", `{}`, invalid, event.CodeInvalid, "body", "payload"),
		ev("type missing", `{"source":"s","payload":{}}`, invalid, event.CodeInvalid, "body", "type"),
		ev("type empty", body(`""`, `"s"`, `{}`), invalid, event.CodeInvalid, "body", "type"),
		ev("type number", body(`5`, `"s"`, `{}`), invalid, event.CodeInvalid, "body", "type"),
		ev("type null", body(`null`, `"s"`, `{}`), invalid, event.CodeInvalid, "body", "type"),
		ev("type bool", body(`true`, `"s"`, `{}`), invalid, event.CodeInvalid, "body", "type"),
		ev("type array", body(`["a"]`, `"s"`, `{}`), invalid, event.CodeInvalid, "body", "type"),
		ev("type object", body(`{"a":1}`, `"s"`, `{}`), invalid, event.CodeInvalid, "body", "type"),
		ev("type too long", body(long(event.MaxTypeLen+1), `"s"`, `{}`), invalid, event.CodeInvalid, "body", "type"),
		ev("type newline", body(`"a\nb"`, `"s"`, `{}`), invalid, event.CodeInvalid, "body", "type"),
		ev("type NUL", body(`"a\u0000b"`, `"s"`, `{}`), invalid, event.CodeInvalid, "body", "type"),
		ev("type DEL", body(`"a\u007fb"`, `"s"`, `{}`), invalid, event.CodeInvalid, "body", "type"),
		ev("type C1 control", body(`"a\u0085b"`, `"s"`, `{}`), invalid, event.CodeInvalid, "body", "type"),
		ev("type line separator", body(`"a\u2028b"`, `"s"`, `{}`), invalid, event.CodeInvalid, "body", "type"),
		ev("type invalid UTF-8", body("\"a\xffb\"", `"s"`, `{}`), invalid, event.CodeInvalid, "body", "type"),
		ev("type overlong UTF-8", body("\"a\xc0\xafb\"", `"s"`, `{}`), invalid, event.CodeInvalid, "body", "type"),
		ev("type lone surrogate escape", body(`"a\ud800b"`, `"s"`, `{}`), invalid, event.CodeInvalid, "body", "type"),
		ev("type duplicated", `{"type":"a","type":"b","source":"s","payload":{}}`, invalid, event.CodeInvalid, "body", "type"),
		ev("type duplicated through an escape", `{"type":"a","\u0074ype":"b","source":"s","payload":{}}`, invalid, event.CodeInvalid, "body", "type"),
		ev("source missing", `{"type":"a","payload":{}}`, invalid, event.CodeInvalid, "body", "source"),
		ev("source empty", body(`"a"`, `""`, `{}`), invalid, event.CodeInvalid, "body", "source"),
		ev("source number", body(`"a"`, `1e3`, `{}`), invalid, event.CodeInvalid, "body", "source"),
		ev("source too long", body(`"a"`, long(event.MaxSourceLen+1), `{}`), invalid, event.CodeInvalid, "body", "source"),
		ev("source tab", body(`"a"`, `"x\ty"`, `{}`), invalid, event.CodeInvalid, "body", "source"),
		ev("payload missing", `{"type":"a","source":"s"}`, invalid, event.CodeInvalid, "body", "payload"),
		ev("payload null", body(`"a"`, `"s"`, `null`), invalid, event.CodeInvalid, "body", "payload"),
		ev("payload array", body(`"a"`, `"s"`, `[1,2]`), invalid, event.CodeInvalid, "body", "payload"),
		ev("payload string", body(`"a"`, `"s"`, `"{}"`), invalid, event.CodeInvalid, "body", "payload"),
		ev("payload number", body(`"a"`, `"s"`, `12`), invalid, event.CodeInvalid, "body", "payload"),
		ev("payload invalid UTF-8", body(`"a"`, `"s"`, "{\"k\":\"\xfe\"}"), invalid, event.CodeInvalid, "body", "payload"),
		ev("payload duplicated", `{"type":"a","source":"s","payload":{},"payload":{"x":1}}`, invalid, event.CodeInvalid, "body", "payload"),
		ev("everything wrong at once", body(`1`, `""`, `[]`), invalid, event.CodeInvalid, "body", "source"),

		// Accepted edge cases.
		ev("BOM is tolerated", "\xef\xbb\xbf"+validBody, created, ""),
		ev("type at its length limit", body(long(event.MaxTypeLen), `"s"`, `{}`), created, ""),
		ev("unknown members ignored", `{"type":"a","source":"s","payload":{},"extra":[1],"extra":2}`, created, ""),
		ev("deep payload within the limit", body(`"a"`, `"s"`, `{"x":`+nest("[", "]", 9990)+`}`), created, ""),
		ev("huge numbers", body(`"a"`, `"s"`, `{"big":1e999999,"int":123456789012345678901234567890}`), created, ""),
		ev("payload lone surrogate kept as sent", body(`"a"`, `"s"`, `{"k":"\ud800"}`), created, ""),
		ev("unicode type", body(`"commande.créée"`, `"s"`, `{}`), created, ""),

		// Media type and size.
		ct("missing", "-", http.StatusUnsupportedMediaType, httpapi.CodeUnsupportedMedia),
		ct("text/plain", "text/plain", http.StatusUnsupportedMediaType, httpapi.CodeUnsupportedMedia),
		ct("form", "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType, httpapi.CodeUnsupportedMedia),
		ct("latin1 charset", "application/json; charset=iso-8859-1", http.StatusUnsupportedMediaType, httpapi.CodeUnsupportedMedia),
		ct("unparseable", "application/json;;;=", http.StatusUnsupportedMediaType, httpapi.CodeUnsupportedMedia),
		ct("json-ish text", "text/json", http.StatusUnsupportedMediaType, httpapi.CodeUnsupportedMedia),
		ct("utf-8 charset", "application/json; charset=UTF-8", created, ""),
		ct("upper case", "APPLICATION/JSON", created, ""),
		ct("+json suffix", "application/vnd.api+json", created, ""),
		{name: "events/two content types", r: req{method: "POST", target: "/events", body: validBody,
			header: hdr("Content-Type", "application/json", "Content-Type", "text/plain")}, key: keyFull, status: http.StatusUnsupportedMediaType, code: httpapi.CodeUnsupportedMedia},
		{name: "events/gzip", r: req{method: "POST", target: "/events", body: validBody,
			header: hdr("Content-Type", "application/json", "Content-Encoding", "gzip")}, key: keyFull, status: http.StatusUnsupportedMediaType, code: httpapi.CodeUnsupportedMedia},
		{name: "events/over the limit", r: req{method: "POST", target: "/events", header: jsonCT,
			body: body(`"a"`, `"s"`, `{"x":`+quote(strings.Repeat("x", httpapi.DefaultMaxBodyBytes))+`}`)}, key: keyFull, status: http.StatusRequestEntityTooLarge, code: event.CodeTooLarge},
		{name: "events/over the limit, chunked", r: req{method: "POST", target: "/events", header: jsonCT, chunked: true,
			body: body(`"a"`, `"s"`, `{"x":`+quote(strings.Repeat("x", httpapi.DefaultMaxBodyBytes))+`}`)}, key: keyFull, status: http.StatusRequestEntityTooLarge, code: event.CodeTooLarge},
		{name: "events/at the limit", r: req{method: "POST", target: "/events", header: jsonCT,
			body: validBody + strings.Repeat(" ", httpapi.DefaultMaxBodyBytes-len(validBody))}, key: keyFull, status: created},

		// Idempotency-Key header.
		idem("empty", invalid, event.CodeInvalid, ""),
		idem("too long", invalid, event.CodeInvalid, strings.Repeat("k", event.MaxIdempotencyKeyLen+1)),
		idem("non-ASCII", invalid, event.CodeInvalid, "clé"),
		idem("control character", invalid, event.CodeInvalid, "a\x01b"),
		idem("given twice", invalid, event.CodeInvalid, "a", "b"),

		// Scopes.
		{name: "events/read-only token", r: req{method: "POST", target: "/events", header: jsonCT, body: validBody}, key: keyRead, status: http.StatusForbidden, code: event.CodeForbidden},
		{name: "inbox/write-only token", r: req{method: "GET", target: "/inbox"}, key: keyWrite, status: http.StatusForbidden, code: event.CodeForbidden},
		{name: "ack/read-only token", r: req{method: "POST", target: "/inbox/" + existing + "/ack"}, key: keyRead, status: http.StatusForbidden, code: event.CodeForbidden},
		{name: "get/any scope will do", r: req{method: "GET", target: "/events/" + existing}, key: keySubs, status: ok},

		// Ids.
		get("malformed id", "/events/abc", notFound, event.CodeNotFound),
		get("uuid v4", "/events/2b1f5c3e-8a4d-4c1e-9f3a-1d2e3f4a5b6c", notFound, event.CodeNotFound),
		get("unknown v7", "/events/"+unknown, notFound, event.CodeNotFound),
		get("upper case id", "/events/"+strings.ToUpper(existing), ok, ""),
		get("percent-encoded id", "/events/%"+fmt.Sprintf("%02X", existing[0])+existing[1:], ok, ""),
		get("encoded slash in id", "/events/"+existing[:8]+"%2F"+existing[9:], notFound, event.CodeNotFound),
		get("id with trailing space", "/events/"+existing+"%20", notFound, event.CodeNotFound),
		get("very long id", "/events/"+strings.Repeat("f", 100_000), notFound, event.CodeNotFound),
		get("id with NUL", "/events/%00", notFound, event.CodeNotFound),
		{name: "ack/malformed id", r: req{method: "POST", target: "/inbox/nope/ack"}, key: keyFull, status: notFound, code: event.CodeNotFound},
		{name: "ack/unknown id", r: req{method: "POST", target: "/inbox/" + unknown + "/ack"}, key: keyFull, status: notFound, code: event.CodeNotFound},
		{name: "ack/garbage body ignored", r: req{method: "POST", target: "/inbox/" + existing + "/ack", header: hdr("Content-Type", "text/plain"), body: "\x00garbage"}, key: keyFull, status: ok},

		// Inbox query.
		inbox("limit 0", "limit=0", invalid, event.CodeInvalid, "query", "limit"),
		inbox("limit negative", "limit=-1", invalid, event.CodeInvalid, "query", "limit"),
		inbox("limit 101", "limit=101", invalid, event.CodeInvalid, "query", "limit"),
		inbox("limit word", "limit=ten", invalid, event.CodeInvalid, "query", "limit"),
		inbox("limit exponent", "limit=1e2", invalid, event.CodeInvalid, "query", "limit"),
		inbox("limit decimal", "limit=5.0", invalid, event.CodeInvalid, "query", "limit"),
		inbox("limit plus sign", "limit=%2B5", invalid, event.CodeInvalid, "query", "limit"),
		inbox("limit space", "limit=%205", invalid, event.CodeInvalid, "query", "limit"),
		inbox("limit empty", "limit=", invalid, event.CodeInvalid, "query", "limit"),
		inbox("limit huge", "limit=99999999999999999999999", invalid, event.CodeInvalid, "query", "limit"),
		inbox("limit repeated", "limit=5&limit=6", invalid, event.CodeInvalid, "query", "limit"),
		inbox("cursor garbage", "cursor=zzz", invalid, event.CodeInvalid, "query", "cursor"),
		inbox("cursor empty", "cursor=", invalid, event.CodeInvalid, "query", "cursor"),
		inbox("cursor with space", "cursor=a+b", invalid, event.CodeInvalid, "query", "cursor"),
		inbox("cursor too long", "cursor="+strings.Repeat("A", 5000), invalid, event.CodeInvalid, "query", "cursor"),
		inbox("cursor repeated", "cursor=a&cursor=b", invalid, event.CodeInvalid, "query", "cursor"),
		inbox("type empty", "type=", invalid, event.CodeInvalid, "query", "type"),
		inbox("type newline", "type=a%0Ab", invalid, event.CodeInvalid, "query", "type"),
		inbox("type too long", "type="+strings.Repeat("t", event.MaxTypeLen+1), invalid, event.CodeInvalid, "query", "type"),
		inbox("type invalid UTF-8", "type=%FF", invalid, event.CodeInvalid, "query", "type"),
		inbox("type repeated", "type=a&type=b", invalid, event.CodeInvalid, "query", "type"),
		inbox("source repeated", "source=a&source=b", invalid, event.CodeInvalid, "query", "source"),
		inbox("bad escape", "limit=%zz", invalid, event.CodeInvalid, "query"),
		inbox("semicolon separator", "limit=5;type=a", invalid, event.CodeInvalid, "query"),
		inbox("limit 1", "limit=1", ok, ""),
		inbox("limit 100 with leading zero", "limit=0100", ok, ""),
		inbox("limit with many leading zeros", "limit=000000001", ok, ""),
		inbox("unknown parameter ignored", "_=1700000000&limit=5", ok, ""),
		inbox("filters", "type=seed.event&source=tests", ok, ""),

		// POST /token.
		tokenReq("no content type", "", "username=api&password=x", http.StatusUnsupportedMediaType, httpapi.CodeUnsupportedMedia),
		tokenReq("text/plain", "text/plain", "password=x", http.StatusUnsupportedMediaType, httpapi.CodeUnsupportedMedia),
		tokenReq("form without password", "application/x-www-form-urlencoded", "username=api", invalid, event.CodeInvalid, "body", "password"),
		tokenReq("form empty password", "application/x-www-form-urlencoded", "username=api&password=", invalid, event.CodeInvalid, "body", "password"),
		tokenReq("form password twice", "application/x-www-form-urlencoded", "password=a&password=b", invalid, event.CodeInvalid, "body", "password"),
		tokenReq("form other grant", "application/x-www-form-urlencoded", "grant_type=client_credentials&password=x", invalid, event.CodeInvalid, "body", "grant_type"),
		tokenReq("form bad escape", "application/x-www-form-urlencoded", "password=%zz", malformed, httpapi.CodeMalformedForm),
		tokenReq("form wrong key", "application/x-www-form-urlencoded", "username=api&password=wrong", unauth, event.CodeUnauthorized),
		tokenReq("form wrong prefixed key", "application/x-www-form-urlencoded", "password=trg_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAA", unauth, event.CodeUnauthorized),
		tokenReq("json empty object", "application/json", `{}`, invalid, event.CodeInvalid, "body", "api_key"),
		tokenReq("json api_key number", "application/json", `{"api_key":5}`, invalid, event.CodeInvalid, "body", "api_key"),
		tokenReq("json api_key empty", "application/json", `{"api_key":""}`, invalid, event.CodeInvalid, "body", "api_key"),
		tokenReq("json garbage", "application/json", `{"api_key":`, malformed, httpapi.CodeMalformedJSON),
		tokenReq("json array", "application/json", `["k"]`, invalid, event.CodeInvalid, "body"),
		tokenReq("json wrong key", "application/json", `{"api_key":"nope"}`, unauth, event.CodeUnauthorized),
		tokenReq("over 8 KiB", "application/x-www-form-urlencoded", "password="+strings.Repeat("k", 9000), http.StatusRequestEntityTooLarge, event.CodeTooLarge),
		tokenReq("empty form", "application/x-www-form-urlencoded", "", invalid, event.CodeInvalid, "body", "password"),

		// Bearer tokens.
		bearer("none", "", unauth, event.CodeUnauthorized),
		bearer("scheme only", "Bearer", unauth, event.CodeUnauthorized),
		bearer("garbled", "Bearer not.a.jwt!", unauth, event.CodeUnauthorized),
		bearer("random segments", "Bearer aaa.bbb.ccc", unauth, event.CodeUnauthorized),
		bearer("basic scheme", "Basic YXBpOnNlY3JldA==", unauth, event.CodeUnauthorized),
		bearer("api key as token", "Bearer "+e.auth.plain[keyFull], unauth, event.CodeUnauthorized),
		bearer("tampered", "Bearer "+tampered, unauth, event.CodeUnauthorized),
		bearer("alg none", "Bearer "+noneTok, unauth, event.CodeUnauthorized),
		bearer("alg none, signature stripped", "Bearer "+strings.TrimSuffix(noneTok, ".")+".", unauth, event.CodeUnauthorized),
		bearer("HS512", "Bearer "+sign(jwt.SigningMethodHS512, signingKey, creds.ActiveKID, claims(nil)), unauth, event.CodeUnauthorized),
		bearer("unknown kid", "Bearer "+sign(jwt.SigningMethodHS256, signingKey, "k20990101zzzzzz", claims(nil)), unauth, event.CodeUnauthorized),
		bearer("no kid", "Bearer "+sign(jwt.SigningMethodHS256, signingKey, "", claims(nil)), unauth, event.CodeUnauthorized),
		bearer("other secret", "Bearer "+sign(jwt.SigningMethodHS256, []byte(strings.Repeat("s", 64)), creds.ActiveKID, claims(nil)), unauth, event.CodeUnauthorized),
		bearer("wrong audience", "Bearer "+sign(jwt.SigningMethodHS256, signingKey, creds.ActiveKID, claims(func(c jwt.MapClaims) { c["aud"] = "someone-else" })), unauth, event.CodeUnauthorized),
		bearer("wrong issuer", "Bearer "+sign(jwt.SigningMethodHS256, signingKey, creds.ActiveKID, claims(func(c jwt.MapClaims) { c["iss"] = "evil" })), unauth, event.CodeUnauthorized),
		bearer("expired", "Bearer "+sign(jwt.SigningMethodHS256, signingKey, creds.ActiveKID, claims(func(c jwt.MapClaims) { c["exp"] = now - 3600 })), unauth, event.CodeUnauthorized),
		bearer("no exp", "Bearer "+sign(jwt.SigningMethodHS256, signingKey, creds.ActiveKID, claims(func(c jwt.MapClaims) { delete(c, "exp") })), unauth, event.CodeUnauthorized),
		bearer("unknown subject", "Bearer "+sign(jwt.SigningMethodHS256, signingKey, creds.ActiveKID, claims(func(c jwt.MapClaims) { c["sub"] = "ffffffffffff" })), unauth, event.CodeUnauthorized),
		bearer("very long", "Bearer "+strings.Repeat("a", 20_000)+"."+"b.c", unauth, event.CodeUnauthorized),
		bearer("lower-case scheme", "bearer "+good, ok, ""),
		{name: "auth/two headers", r: req{method: "GET", target: "/inbox", header: hdr("Authorization", "Bearer "+good, "Authorization", "Bearer "+good)}, status: unauth, code: event.CodeUnauthorized},

		// Paths and methods.
		{name: "path/root", r: req{method: "GET", target: "/"}, status: notFound, code: event.CodeNotFound},
		{name: "path/unknown", r: req{method: "GET", target: "/nope"}, status: notFound, code: event.CodeNotFound},
		{name: "path/trailing slash", r: req{method: "GET", target: "/health/"}, status: notFound, code: event.CodeNotFound},
		{name: "path/events slash", r: req{method: "GET", target: "/events/"}, key: keyFull, status: notFound, code: event.CodeNotFound},
		{name: "path/upper case", r: req{method: "GET", target: "/INBOX"}, key: keyFull, status: notFound, code: event.CodeNotFound},
		{name: "path/ack extra segment", r: req{method: "POST", target: "/inbox/" + existing + "/ack/more"}, key: keyFull, status: notFound, code: event.CodeNotFound},
		{name: "path/very long", r: req{method: "GET", target: "/" + strings.Repeat("a/", 50_000)}, status: notFound, code: event.CodeNotFound},
		{name: "method/PATCH events", r: req{method: "PATCH", target: "/events"}, key: keyFull, status: http.StatusMethodNotAllowed, code: httpapi.CodeMethodNotAllowed},
		{name: "method/OPTIONS inbox", r: req{method: "OPTIONS", target: "/inbox"}, status: http.StatusMethodNotAllowed, code: httpapi.CodeMethodNotAllowed},
		{name: "method/TRACE health", r: req{method: "TRACE", target: "/health"}, status: http.StatusMethodNotAllowed, code: httpapi.CodeMethodNotAllowed},
		{name: "method/DELETE event", r: req{method: "DELETE", target: "/events/" + existing}, status: http.StatusMethodNotAllowed, code: httpapi.CodeMethodNotAllowed},
		{name: "method/GET ack", r: req{method: "GET", target: "/inbox/" + existing + "/ack"}, status: http.StatusMethodNotAllowed, code: httpapi.CodeMethodNotAllowed},
		{name: "method/invented", r: req{method: "BREW", target: "/token"}, status: http.StatusMethodNotAllowed, code: httpapi.CodeMethodNotAllowed},
		{name: "headers/very long header", r: req{method: "GET", target: "/health", header: hdr("X-Junk", strings.Repeat("j", 1<<20))}, status: ok},
		{name: "headers/insane request id", r: req{method: "GET", target: "/health", header: hdr("X-Request-Id", "a\x00b\r\nX-Evil: 1")}, status: ok},
	}

	runBadCases(t, e, cases)
}

// runBadCases sends each case through e in parallel and checks its answer:
// the status, and for an error the problem's code, location, headers and
// size.
func runBadCases(t *testing.T, e *env, cases []badCase) {
	t.Helper()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := c.r
			if c.key != "" {
				r.token = e.token(c.key)
			}
			if r.remote == "" { // keep the /token limiter's budget per case
				r.remote = fmt.Sprintf("198.51.100.%d:4000", i%250)
				if i >= 250 {
					r.remote = fmt.Sprintf("203.0.113.%d:4000", i%250)
				}
			}
			res := e.do(r)
			if res.Code != c.status {
				t.Fatalf("status: got %d, want %d; body %.500s", res.Code, c.status, res.Body)
			}
			if res.Code < 400 {
				if ct := res.Header.Get("Content-Type"); res.Code == http.StatusNoContent && ct != "" {
					t.Errorf("204 with Content-Type %q", ct)
				}
				if res.Code == http.StatusNoContent {
					return
				}
				if ct := res.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type: got %q, want application/json", ct)
				}
				return
			}
			p := res.problem(t)
			if p.Code != c.code {
				t.Errorf("code: got %q, want %q (detail %q)", p.Code, c.code, p.Detail)
			}
			if c.loc != nil && !slices.ContainsFunc(p.Errors, func(f httpapi.FieldProblem) bool { return slices.Equal(f.Loc, c.loc) }) {
				t.Errorf("errors: got %+v, want one at %v", p.Errors, c.loc)
			}
			if p.Code == event.CodeInvalid && len(p.Errors) == 0 {
				t.Errorf("validation failure without errors[]: %+v", p)
			}
			checkStatusHeaders(t, r, res)
			if len(res.Body) > 4096 {
				t.Errorf("problem body is %d bytes: input must not be echoed back", len(res.Body))
			}
		})
	}
}

// checkStatusHeaders checks the headers a status requires.
func checkStatusHeaders(t *testing.T, r req, res response) {
	t.Helper()
	switch res.Code {
	case http.StatusUnauthorized:
		challenge := res.Header.Get("WWW-Authenticate")
		if !strings.HasPrefix(challenge, "Bearer") {
			t.Errorf("WWW-Authenticate: got %q, want a Bearer challenge", challenge)
		}
		presented := r.token != "" || len(r.header.Values("Authorization")) == 1 && r.header.Get("Authorization") != ""
		if presented && r.target != "/token" && !strings.Contains(challenge, `error="invalid_token"`) {
			t.Errorf("WWW-Authenticate: got %q, want error=\"invalid_token\" when a token was presented", challenge)
		}
	case http.StatusForbidden:
		if challenge := res.Header.Get("WWW-Authenticate"); !strings.Contains(challenge, `insufficient_scope`) {
			t.Errorf("WWW-Authenticate on 403: got %q, want insufficient_scope", challenge)
		}
	case http.StatusMethodNotAllowed:
		if res.Header.Get("Allow") == "" {
			t.Error("405 without Allow")
		}
	case http.StatusUnsupportedMediaType:
		if p := res.problem(t); !strings.Contains(p.Detail, "application/") {
			t.Errorf("415 detail %q does not name the accepted types", p.Detail)
		}
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if res.Header.Get("Retry-After") == "" {
			t.Errorf("%d without Retry-After", res.Code)
		}
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("missing X-Content-Type-Options: nosniff")
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Error("missing Cache-Control: no-store")
	}
}

// flip changes the last character of a base64url segment.
func flip(s string) string {
	b := []byte(s)
	if b[len(b)-1] == 'A' {
		b[len(b)-1] = 'B'
	} else {
		b[len(b)-1] = 'A'
	}
	return string(b)
}

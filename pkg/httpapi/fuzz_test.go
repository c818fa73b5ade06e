package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/triggershq/triggers/pkg/event"
)

// FuzzCreateEvent drives POST /events through the real handler and store
// with arbitrary bodies, content types and idempotency keys. It must never
// answer 5xx or panic, and must answer 201 only for input an independent
// oracle calls valid, storing the payload byte-exactly (compacted).
func FuzzCreateEvent(f *testing.F) {
	seeds := []struct{ body, contentType, key string }{
		{validBody, "application/json", ""},
		{validBody, "application/json; charset=utf-8", "key-1"},
		{`{"type":"a","source":"b","payload":{"n":1e999,"s":"\u00e9<>"}}`, "application/vnd.x+json", ""},
		{"\xef\xbb\xbf" + validBody, "application/json", ""},
		{`{"type":"a","type":"b","source":"s","payload":{}}`, "application/json", ""},
		{`{"type":5,"source":null,"payload":[]}`, "application/json", ""},
		{`{"type":"a\ud800","source":"s","payload":{}}`, "application/json", ""},
		{"{\"type\":\"a\xff\",\"source\":\"s\",\"payload\":{}}", "application/json", ""},
		{`[` + validBody + `]`, "application/json", ""},
		{validBody + `x`, "application/json", ""},
		{``, "application/json", ""},
		{validBody, "text/plain", ""},
		{validBody, "", "k"},
		{validBody, "application/json", strings.Repeat("k", 300)},
		{validBody, "application/json", "é"},
		{`{"type":"a","source":"s","payload":` + nest("[", "]", 20000) + `}`, "application/json", ""},
		{`{"type":"a","source":"s","payload":{"a":` + nest("{\"a\":", "}", 50) + `1}}`, "application/json", ""},
	}
	for _, s := range seeds {
		f.Add([]byte(s.body), s.contentType, s.key)
	}
	e := newEnv(f, nil)
	tok := e.token(keyWrite)
	read := e.token(keyFull)
	f.Fuzz(func(t *testing.T, body []byte, contentType, key string) {
		r := httptest.NewRequest("POST", "/events", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tok)
		if contentType != "" {
			r.Header["Content-Type"] = []string{contentType}
		}
		if key != "" {
			r.Header["Idempotency-Key"] = []string{key}
		}
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q content type %q key %q: %s", rec.Code, body, contentType, key, rec.Body)
		}
		if rec.Code != http.StatusCreated {
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("error %d with Content-Type %q", rec.Code, ct)
			}
			return
		}
		payload, ok := oracleValid(body, contentType, key)
		if !ok {
			t.Fatalf("201 for input the oracle rejects: body %q content type %q key %q", body, contentType, key)
		}
		var c created
		if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		if rec.Header().Get("Idempotent-Replayed") != "" {
			return // the stored payload is the first request's
		}
		g := httptest.NewRecorder()
		gr := httptest.NewRequest("GET", "/events/"+c.ID, nil)
		gr.Header.Set("Authorization", "Bearer "+read)
		e.handler.ServeHTTP(g, gr)
		var got struct {
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(g.Body.Bytes(), &got); err != nil {
			t.Fatalf("GET %s: %v: %s", c.ID, err, g.Body)
		}
		var want bytes.Buffer
		_ = json.Compact(&want, payload)
		if !bytes.Equal(got.Payload, want.Bytes()) {
			t.Fatalf("payload changed:\n got %s\nwant %s", got.Payload, want.Bytes())
		}
	})
}

// oracleValid decides, independently of the handler's decoder, whether a
// request should create an event, and returns the payload it should store.
func oracleValid(body []byte, contentType, key string) (json.RawMessage, bool) {
	ct := strings.ToLower(contentType)
	if !strings.HasPrefix(ct, "application/json") && !(strings.HasPrefix(ct, "application/") && strings.Contains(ct, "+json")) {
		return nil, false
	}
	if key != "" && event.ValidateIdempotencyKey(key) != nil {
		return nil, false
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, false
	}
	name := func(field string, max int) bool {
		raw := m[field]
		var s string
		return len(raw) > 0 && raw[0] == '"' && utf8.Valid(raw) && json.Unmarshal(raw, &s) == nil &&
			!strings.ContainsRune(s, utf8.RuneError) && event.ValidateName(field, s, max) == nil
	}
	p := m["payload"]
	return p, name("type", event.MaxTypeLen) && name("source", event.MaxSourceLen) &&
		len(p) > 0 && p[0] == '{' && utf8.Valid(p)
}

// FuzzInboxQuery sends arbitrary raw query strings to GET /inbox: never a
// 5xx or a panic, and a 200 is a JSON array no longer than the limit asked.
func FuzzInboxQuery(f *testing.F) {
	for _, q := range []string{
		"", "limit=1", "limit=100", "limit=0", "limit=101", "limit=1e2", "limit=-1", "limit=%2B1", "limit=5&limit=6",
		"cursor=", "cursor=zzz", "cursor=" + strings.Repeat("A", 2000), "type=a%0Ab", "type=%FF", "source=web-app&type=user.created",
		"limit=5;type=a", "%zz", "&&&", "=", "limit", "type=" + strings.Repeat("t", 200), "_=123&limit=7",
	} {
		f.Add(q)
	}
	e := newEnv(f, nil)
	tok := e.token(keyFull)
	for i := range 5 {
		e.createEvent(tok, "fuzz.seed", "fuzz", `{"i":`+strconv.Itoa(i)+`}`)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/inbox", RawQuery: rawQuery}, Header: http.Header{},
			Host: "triggers.test", RemoteAddr: "192.0.2.1:1", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		r = r.WithContext(t.Context())
		r.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, r)
		switch {
		case rec.Code >= 500:
			t.Fatalf("status %d for query %q: %s", rec.Code, rawQuery, rec.Body)
		case rec.Code == http.StatusOK:
			var list []json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || list == nil {
				t.Fatalf("200 body is not a JSON array: %s", rec.Body)
			}
			limit := 100
			if v, err := url.ParseQuery(rawQuery); err == nil && v.Get("limit") != "" {
				limit, _ = strconv.Atoi(v.Get("limit"))
			}
			if len(list) > limit {
				t.Fatalf("query %q: %d events, limit %d", rawQuery, len(list), limit)
			}
		case rec.Code != http.StatusUnprocessableEntity:
			t.Fatalf("query %q: status %d, want 200 or 422", rawQuery, rec.Code)
		}
	})
}

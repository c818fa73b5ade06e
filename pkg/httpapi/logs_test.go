package httpapi_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A full flow, including failures, writes access lines with the request
// id, route pattern, status and key id, and never an API key, a token, an
// Authorization header, a form body or a query string.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	key := e.auth.plain[keyFull]

	res := e.do(req{method: "POST", target: "/token", header: hdr("Content-Type", "application/x-www-form-urlencoded"),
		body: url.Values{"username": {"api"}, "password": {key}}.Encode()})
	res.wantStatus(t, http.StatusOK)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	res.json(t, &tok)
	e.do(req{method: "POST", target: "/token", header: jsonCT, body: `{"api_key":"` + key + `x"}`}).wantStatus(t, http.StatusUnauthorized)
	e.do(req{method: "POST", target: "/token", header: jsonCT, body: `{"api_key":` + quote(key) + `}`}).wantStatus(t, http.StatusOK)
	id := e.createEvent(tok.AccessToken, "log.test", "tests", `{"secret_in_payload":"`+key+`"}`)
	e.do(req{method: "GET", target: "/inbox?access_token=" + tok.AccessToken + "&api_key=" + key, token: tok.AccessToken}).wantStatus(t, http.StatusOK)
	e.do(req{method: "POST", target: "/inbox/" + id + "/ack", token: tok.AccessToken}).wantStatus(t, http.StatusOK)
	e.do(req{method: "GET", target: "/inbox", token: tok.AccessToken + "tampered"}).wantStatus(t, http.StatusUnauthorized)
	e.do(req{method: "GET", target: "/inbox", header: hdr("Authorization", "Basic "+key)}).wantStatus(t, http.StatusUnauthorized)
	e.do(req{method: "GET", target: "/no/route/" + key}).wantStatus(t, http.StatusNotFound)

	logs := e.logs.String()
	for what, secret := range map[string]string{
		"API key": key, "token": tok.AccessToken, "token signature": tok.AccessToken[strings.LastIndex(tok.AccessToken, ".")+1:],
		"Authorization header": "Bearer ", "Basic credentials": "Basic ", "password field": "password=",
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain the %s", what)
		}
	}

	lines := 0
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if rec["msg"] != "request" {
			continue
		}
		lines++
		for _, k := range []string{"request_id", "method", "route", "status", "duration_ms", "bytes"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("access line lacks %s: %s", k, sc.Text())
			}
		}
		if route, _ := rec["route"].(string); strings.Contains(route, id) {
			t.Errorf("route holds a raw path: %s", sc.Text())
		}
		if rec["route"] == "POST /inbox/{id}/ack" && (rec["key_id"] != e.auth.ids[keyFull] || rec["event_id"] != id) {
			t.Errorf("ack line lacks key_id or event_id: %s", sc.Text())
		}
	}
	if lines != 9 {
		t.Errorf("access lines: got %d, want 9", lines)
	}
}

// X-Request-Id is honoured when sane, replaced otherwise, always echoed,
// and ties the access line to the response.
func TestRequestID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cases := []struct {
		name, sent string
		kept       bool
	}{
		{"sane", "req-abc.123:XYZ/def", true},
		{"aws style", "Root=1-67891233-abcdef012345678912345678", true},
		{"max length", strings.Repeat("r", 128), true},
		{"too long", strings.Repeat("r", 129), false},
		{"space", "a b", false},
		{"control", "a\x1bb", false},
		{"non-ASCII", "réq", false},
		{"none", "", false},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		h := hdr()
		if c.sent != "" {
			h.Set("X-Request-Id", c.sent)
		}
		res := e.do(req{method: "GET", target: "/health", header: h})
		got := res.Header.Get("X-Request-Id")
		switch {
		case c.kept && got != c.sent:
			t.Errorf("%s: got %q, want %q echoed", c.name, got, c.sent)
		case !c.kept && (got == c.sent || got == "" || seen[got]):
			t.Errorf("%s: got %q, want a fresh id", c.name, got)
		}
		seen[got] = true
		if !strings.Contains(e.logs.String(), `"request_id":"`+got+`"`) {
			t.Errorf("%s: no log line with request_id %q", c.name, got)
		}
	}
	res := e.do(req{method: "GET", target: "/health", header: hdr("X-Request-Id", "one", "X-Request-Id", "two")})
	if got := res.Header.Get("X-Request-Id"); got == "one" || got == "two" {
		t.Errorf("two X-Request-Id headers: got %q, want a fresh id", got)
	}
}

// Request methods are any RFC 9110 token, as long as the server's header
// limit allows; the access line keeps at most 32 bytes of one, so a client
// cannot write 64 KiB log lines (the red team sent a 5,000-byte method).
func TestLogsClipLongMethods(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, method, logged string
	}{
		{"ordinary", "PROPFIND", "PROPFIND"},
		{"32 bytes", strings.Repeat("M", 32), strings.Repeat("M", 32)},
		{"33 bytes", strings.Repeat("M", 33), strings.Repeat("M", 32) + "…"},
		{"64 KiB", strings.Repeat("M", 64<<10), strings.Repeat("M", 32) + "…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.do(req{method: c.method, target: "/health"}).wantStatus(t, http.StatusMethodNotAllowed)
			var rec struct{ Method string }
			if err := json.Unmarshal([]byte(lastLine(e.logs.String())), &rec); err != nil {
				t.Fatal(err)
			}
			if rec.Method != c.logged {
				t.Errorf("logged method: got %q (%d bytes), want %q", rec.Method, len(rec.Method), c.logged)
			}
		})
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}

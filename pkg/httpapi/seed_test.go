package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// The seed's clients (docs: seed/developer-guide.md, "Code Examples") keep
// working: these replay their exact requests over a real HTTP server and
// read the fields they read.

// seedServer serves the env's handler over real HTTP.
func seedServer(t *testing.T, e *env) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(e.handler)
	t.Cleanup(srv.Close)
	return srv
}

func send(t *testing.T, method, u string, header http.Header, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	r, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		r.Header[k] = vs
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// Python requests: data= for the token (form), json= plus an explicit
// Content-Type for events (json.dumps's ", " and ": " separators), and a
// bodiless POST for the ack.
func TestSeedPythonClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	base := seedServer(t, e).URL
	py := http.Header{"User-Agent": {"python-requests/2.31.0"}, "Accept": {"*/*"}, "Accept-Encoding": {"gzip, deflate"}}
	with := func(kv ...string) http.Header {
		h := py.Clone()
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}

	res, b := send(t, "POST", base+"/token", with("Content-Type", "application/x-www-form-urlencoded"),
		strings.NewReader("username=api&password="+url.QueryEscape(e.auth.plain[keyFull])))
	var tok map[string]any
	mustJSON(t, res, b, 200, &tok)
	token, _ := tok["access_token"].(string)
	if token == "" {
		t.Fatalf("no access_token in %s", b)
	}
	auth := "Bearer " + token

	res, b = send(t, "POST", base+"/events", with("Authorization", auth, "Content-Type", "application/json"),
		strings.NewReader(`{"type": "user.signup", "source": "web-app", "payload": {"user_id": "12345", "email": "user@example.com", "plan": "premium"}}`))
	var result map[string]any
	mustJSON(t, res, b, 201, &result)
	if result["id"] == nil || result["status"] != "pending" || result["timestamp"] == nil {
		t.Errorf("create_event result: got %v", result)
	}

	res, b = send(t, "GET", base+"/inbox", with("Authorization", auth), nil)
	var events []map[string]any
	mustJSON(t, res, b, 200, &events)
	if len(events) != 1 || events[0]["id"] != result["id"] || events[0]["type"] != "user.signup" {
		t.Fatalf("get_inbox: got %v", events)
	}

	res, b = send(t, "POST", base+"/inbox/"+events[0]["id"].(string)+"/ack", with("Authorization", auth), nil)
	var ack map[string]any
	mustJSON(t, res, b, 200, &ack)
	if ack["id"] != result["id"] || ack["status"] != "delivered" {
		t.Errorf("acknowledge_event: got %v", ack)
	}
	res, b = send(t, "GET", base+"/inbox", with("Authorization", auth), nil)
	mustJSON(t, res, b, 200, &events)
	if len(events) != 0 {
		t.Errorf("inbox after ack: got %v", events)
	}
}

// Node axios: URLSearchParams for the token (axios adds ";charset=utf-8"),
// compact JSON for events, and {} with application/json for the ack.
func TestSeedNodeClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	base := seedServer(t, e).URL
	ax := func(kv ...string) http.Header {
		h := http.Header{"Accept": {"application/json, text/plain, */*"}, "User-Agent": {"axios/1.6.0"}}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	res, b := send(t, "POST", base+"/token", ax("Content-Type", "application/x-www-form-urlencoded;charset=utf-8"),
		strings.NewReader(url.Values{"username": {"api"}, "password": {e.auth.plain[keyFull]}}.Encode()))
	var tok map[string]any
	mustJSON(t, res, b, 200, &tok)
	auth := "Bearer " + tok["access_token"].(string)

	res, b = send(t, "POST", base+"/events", ax("Authorization", auth, "Content-Type", "application/json"),
		strings.NewReader(`{"type":"user.signup","source":"web-app","payload":{"user_id":"12345","email":"user@example.com","plan":"premium"}}`))
	var result map[string]any
	mustJSON(t, res, b, 201, &result)

	res, b = send(t, "GET", base+"/inbox", ax("Authorization", auth), nil)
	var events []map[string]any
	mustJSON(t, res, b, 200, &events)
	if len(events) != 1 {
		t.Fatalf("getInbox: got %v", events)
	}
	res, b = send(t, "POST", base+"/inbox/"+events[0]["id"].(string)+"/ack", ax("Authorization", auth, "Content-Type", "application/json"), strings.NewReader(`{}`))
	var ack map[string]any
	mustJSON(t, res, b, 200, &ack)
	if ack["id"] != result["id"] {
		t.Errorf("acknowledgeEvent: got %v, want id %v", ack, result["id"])
	}
}

// The seed's Go client itself (and its Python and Node clients) run as
// real programs against the real binary in cmd/triggers/seedclients_test.go,
// from the copies in testdata/seedclients.

func mustJSON(t *testing.T, res *http.Response, b []byte, status int, v any) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s %s: got %d, want %d; body %s", res.Request.Method, res.Request.URL.Path, res.StatusCode, status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

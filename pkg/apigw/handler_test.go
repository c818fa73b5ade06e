package apigw_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/triggershq/triggers/pkg/apigw"
	"github.com/triggershq/triggers/pkg/auth"
)

// seen is what echoHandler reports about the request it was given.
type seen struct {
	Method      string
	Path        string
	EscapedPath string
	RawQuery    string
	Query       map[string][]string
	Header      http.Header
	Host        string
	RemoteAddr  string
	Body        []byte
	Cookies     map[string]string
	ID          string // r.PathValue("id")
	Principal   *auth.Principal
	Proto       string
	Length      int64
}

// echoHandler answers with a JSON description of the request it received,
// through a ServeMux so path values are derived as in the real handlers.
func echoHandler() http.Handler {
	mux := http.NewServeMux()
	echo := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s := seen{
			Method: r.Method, Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			Query: r.URL.Query(), Header: r.Header, Host: r.Host, RemoteAddr: r.RemoteAddr, Body: body,
			Cookies: map[string]string{}, ID: r.PathValue("id"), Proto: r.Proto, Length: r.ContentLength,
		}
		for _, c := range r.Cookies() {
			s.Cookies[c.Name] = c.Value
		}
		if p, ok := auth.PrincipalFrom(r.Context()); ok {
			s.Principal = &p
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	}
	mux.HandleFunc("/events/{id}", echo)
	mux.HandleFunc("/", echo)
	return mux
}

// invoke runs ev through Handler(h) and fails the test on a Go error, which
// the adapter must never return.
func invoke(t *testing.T, h http.Handler, opts apigw.Options, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := apigw.Handler(h, opts)(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handler returned an error (API Gateway would answer 502): %v", err)
	}
	return resp
}

// echo runs ev through the echo handler and decodes what it saw.
func echo(t *testing.T, ev events.APIGatewayV2HTTPRequest) seen {
	t.Helper()
	resp := invoke(t, echoHandler(), apigw.Options{}, ev)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status: got %d, want 200; body %s", resp.StatusCode, resp.Body)
	}
	var s seen
	if err := json.Unmarshal([]byte(resp.Body), &s); err != nil {
		t.Fatalf("decode echo: %v in %s", err, resp.Body)
	}
	return s
}

// loadEvent reads a fixture from testdata/apigw.
func loadEvent(t testing.TB, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "apigw", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
}

// baseEvent is a minimal valid event for GET path.
func baseEvent(method, path string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: path, Headers: map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-1", Stage: "$default", DomainName: "api.example.com",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "198.51.100.4"},
		},
	}
}

func TestRequestMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edit  func(*events.APIGatewayV2HTTPRequest)
		check func(t *testing.T, s seen)
	}{
		{
			name: "plain body",
			edit: func(e *events.APIGatewayV2HTTPRequest) { e.Body = `{"a":1}` },
			check: func(t *testing.T, s seen) {
				if string(s.Body) != `{"a":1}` || s.Length != 7 || s.Header.Get("Content-Length") != "7" {
					t.Errorf("body: got %q (length %d, header %q), want {\"a\":1} of 7", s.Body, s.Length, s.Header.Get("Content-Length"))
				}
			},
		},
		{
			name: "base64 body is decoded",
			edit: func(e *events.APIGatewayV2HTTPRequest) {
				e.Body, e.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte("username=api&password=k%2By")), true
				e.Headers["content-length"] = "999" // the client's; the adapter restates it
			},
			check: func(t *testing.T, s seen) {
				if string(s.Body) != "username=api&password=k%2By" || s.Header.Get("Content-Length") != "27" {
					t.Errorf("body: got %q (Content-Length %q), want the decoded form of 27 bytes", s.Body, s.Header.Get("Content-Length"))
				}
			},
		},
		{
			name: "base64 body without padding is decoded",
			edit: func(e *events.APIGatewayV2HTTPRequest) {
				e.Body, e.IsBase64Encoded = base64.RawStdEncoding.EncodeToString([]byte{0xff, 0x00, 0x7f, 0x80}), true
			},
			check: func(t *testing.T, s seen) {
				if string(s.Body) != string([]byte{0xff, 0x00, 0x7f, 0x80}) {
					t.Errorf("body: got %q, want the 4 binary bytes", s.Body)
				}
			},
		},
		{
			name: "repeated headers stay comma-joined as API Gateway sends them",
			edit: func(e *events.APIGatewayV2HTTPRequest) {
				e.Headers["accept"] = "application/json,text/plain"
				e.Headers["if-modified-since"] = "Sat, 28 Nov 2026 10:00:00 GMT"
				e.Headers["X-Mixed-Case"] = "v"
			},
			check: func(t *testing.T, s seen) {
				if got := s.Header.Values("Accept"); !slices.Equal(got, []string{"application/json,text/plain"}) {
					t.Errorf("Accept: got %q, want one comma-joined value", got)
				}
				if got := s.Header.Get("If-Modified-Since"); got != "Sat, 28 Nov 2026 10:00:00 GMT" {
					t.Errorf("If-Modified-Since: got %q, want the date unsplit", got)
				}
				if got := s.Header.Get("X-Mixed-Case"); got != "v" {
					t.Errorf("X-Mixed-Case: got %q, want v", got)
				}
			},
		},
		{
			name: "cookies become one Cookie header",
			edit: func(e *events.APIGatewayV2HTTPRequest) {
				e.Cookies = []string{"session=abc", "theme=dark"}
			},
			check: func(t *testing.T, s seen) {
				if got := s.Header.Get("Cookie"); got != "session=abc; theme=dark" {
					t.Errorf("Cookie: got %q, want %q", got, "session=abc; theme=dark")
				}
				if s.Cookies["session"] != "abc" || s.Cookies["theme"] != "dark" {
					t.Errorf("cookies: got %v, want session=abc theme=dark", s.Cookies)
				}
			},
		},
		{
			name: "repeated and percent-encoded query parameters",
			edit: func(e *events.APIGatewayV2HTTPRequest) {
				e.RawQueryString = "type=a&type=b&source=web%20app&cursor=x%2By%2F%3D&empty="
			},
			check: func(t *testing.T, s seen) {
				want := map[string][]string{"type": {"a", "b"}, "source": {"web app"}, "cursor": {"x+y/="}, "empty": {""}}
				for k, v := range want {
					if !slices.Equal(s.Query[k], v) {
						t.Errorf("query %s: got %q, want %q", k, s.Query[k], v)
					}
				}
				if s.RawQuery != "type=a&type=b&source=web%20app&cursor=x%2By%2F%3D&empty=" {
					t.Errorf("raw query: got %q, want it unchanged", s.RawQuery)
				}
			},
		},
		{
			name: "decoded rawPath with a space is the path value",
			edit: func(e *events.APIGatewayV2HTTPRequest) { e.RawPath = "/events/a b" },
			check: func(t *testing.T, s seen) {
				if s.ID != "a b" || s.Path != "/events/a b" || s.EscapedPath != "/events/a%20b" {
					t.Errorf("path: got id %q path %q escaped %q, want a b, /events/a b, /events/a%%20b", s.ID, s.Path, s.EscapedPath)
				}
			},
		},
		{
			name: "a decoded question mark stays in the path, not the query",
			edit: func(e *events.APIGatewayV2HTTPRequest) {
				e.RawPath, e.RawQueryString = "/events/x?admin=true", "limit=5"
			},
			check: func(t *testing.T, s seen) {
				if s.ID != "x?admin=true" || s.RawQuery != "limit=5" || s.Query["admin"] != nil {
					t.Errorf("path: got id %q query %q, want the ? inside the id and limit=5", s.ID, s.RawQuery)
				}
			},
		},
		{
			name: "a percent sign in the decoded path is literal",
			edit: func(e *events.APIGatewayV2HTTPRequest) { e.RawPath = "/events/100%" },
			check: func(t *testing.T, s seen) {
				if s.ID != "100%" || s.EscapedPath != "/events/100%25" {
					t.Errorf("path: got id %q escaped %q, want 100%% and /events/100%%25", s.ID, s.EscapedPath)
				}
			},
		},
		{
			name: "a named stage's prefix is removed",
			edit: func(e *events.APIGatewayV2HTTPRequest) {
				e.RequestContext.Stage, e.RawPath = "prod", "/prod/events/abc"
			},
			check: func(t *testing.T, s seen) {
				if s.Path != "/events/abc" || s.ID != "abc" {
					t.Errorf("path: got %q (id %q), want /events/abc", s.Path, s.ID)
				}
			},
		},
		{
			name: "a path that only starts like the stage keeps it",
			edit: func(e *events.APIGatewayV2HTTPRequest) {
				e.RequestContext.Stage, e.RawPath = "prod", "/production/x"
			},
			check: func(t *testing.T, s seen) {
				if s.Path != "/production/x" {
					t.Errorf("path: got %q, want /production/x", s.Path)
				}
			},
		},
		{
			name: "RemoteAddr is the source IP, Host the domain, X-Request-Id the request id",
			edit: func(e *events.APIGatewayV2HTTPRequest) {
				e.Headers["x-forwarded-for"] = "10.9.9.9" // forgeable; not used for RemoteAddr
			},
			check: func(t *testing.T, s seen) {
				if s.RemoteAddr != "198.51.100.4:0" {
					t.Errorf("RemoteAddr: got %q, want 198.51.100.4:0", s.RemoteAddr)
				}
				if s.Host != "api.example.com" || s.Header.Get("Host") != "" {
					t.Errorf("Host: got %q (header %q), want api.example.com and no Host header", s.Host, s.Header.Get("Host"))
				}
				if s.Header.Get("X-Request-Id") != "req-1" {
					t.Errorf("X-Request-Id: got %q, want req-1", s.Header.Get("X-Request-Id"))
				}
				if s.Proto != "HTTP/1.1" {
					t.Errorf("Proto: got %q, want HTTP/1.1", s.Proto)
				}
			},
		},
		{
			name: "IPv6 source address",
			edit: func(e *events.APIGatewayV2HTTPRequest) { e.RequestContext.HTTP.SourceIP = "2001:db8::7" },
			check: func(t *testing.T, s seen) {
				if s.RemoteAddr != "[2001:db8::7]:0" {
					t.Errorf("RemoteAddr: got %q, want [2001:db8::7]:0", s.RemoteAddr)
				}
			},
		},
		{
			name: "the client's X-Request-Id and Host are kept",
			edit: func(e *events.APIGatewayV2HTTPRequest) {
				e.Headers["x-request-id"] = "client-chosen"
				e.Headers["host"] = "triggers.example.org"
			},
			check: func(t *testing.T, s seen) {
				if s.Header.Get("X-Request-Id") != "client-chosen" || s.Host != "triggers.example.org" {
					t.Errorf("got X-Request-Id %q Host %q, want the client's", s.Header.Get("X-Request-Id"), s.Host)
				}
			},
		},
		{
			name: "no authorizer context, no principal, whatever the headers say",
			edit: func(e *events.APIGatewayV2HTTPRequest) {
				e.Headers["authorization"] = "Bearer x.y.z"
				e.Headers["x-principal"] = `{"Subject":"admin"}`
			},
			check: func(t *testing.T, s seen) {
				if s.Principal != nil {
					t.Errorf("principal: got %+v, want none", s.Principal)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := baseEvent("POST", "/events/abc")
			tt.edit(&ev)
			tt.check(t, echo(t, ev))
		})
	}
}

func TestMalformedEventsAre400(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*events.APIGatewayV2HTTPRequest)
	}{
		{"no method", func(e *events.APIGatewayV2HTTPRequest) { e.RequestContext.HTTP.Method = "" }},
		{"method with a space", func(e *events.APIGatewayV2HTTPRequest) { e.RequestContext.HTTP.Method = "GET /x" }},
		{"relative path", func(e *events.APIGatewayV2HTTPRequest) { e.RawPath = "events"; e.RequestContext.HTTP.Path = "events" }},
		{"no path", func(e *events.APIGatewayV2HTTPRequest) { e.RawPath = ""; e.RequestContext.HTTP.Path = "" }},
		{"newline in path", func(e *events.APIGatewayV2HTTPRequest) { e.RawPath = "/events\r\nX: y" }},
		{"bad base64", func(e *events.APIGatewayV2HTTPRequest) { e.Body, e.IsBase64Encoded = "not base64!", true }},
		{"header name with a space", func(e *events.APIGatewayV2HTTPRequest) { e.Headers["bad name"] = "v" }},
		{"header value with a newline", func(e *events.APIGatewayV2HTTPRequest) { e.Headers["x-a"] = "v\r\nx-b: injected" }},
		{"cookie with a newline", func(e *events.APIGatewayV2HTTPRequest) { e.Cookies = []string{"a=1\nb"} }},
		{"query with a space", func(e *events.APIGatewayV2HTTPRequest) { e.RawQueryString = "a=b c" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := baseEvent("GET", "/events")
			tt.edit(&ev)
			resp := invoke(t, echoHandler(), apigw.Options{}, ev)
			assertProblem(t, resp, http.StatusBadRequest, string(apigw.CodeMalformedRequest))
			if responseHeader(resp, "X-Request-Id") != "req-1" {
				t.Errorf("X-Request-Id: got %q, want req-1", responseHeader(resp, "X-Request-Id"))
			}
		})
	}
}

// assertProblem checks a problem+json answer's status and code.
func assertProblem(t *testing.T, resp events.APIGatewayV2HTTPResponse, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status: got %d, want %d; body %s", resp.StatusCode, status, resp.Body)
	}
	if ct := responseHeader(resp, "Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type: got %q, want application/problem+json", ct)
	}
	var p struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatalf("problem body: %v in %s", err, resp.Body)
	}
	if p.Code != code || p.Status != status || p.Type != "/problems/"+code || p.Detail == "" {
		t.Errorf("problem: got %+v, want code %s status %d with a detail", p, code, status)
	}
}

func TestResponseMapping(t *testing.T) {
	t.Parallel()
	binary := []byte{0x89, 'P', 'N', 'G', 0x00, 0xff}
	tests := []struct {
		name       string
		method     string
		handler    http.HandlerFunc
		status     int
		body       string // as it reaches the client, after base64 decoding
		base64     bool
		headers    map[string]string
		cookies    []string
		absentHdrs []string
	}{
		{
			name: "JSON stays text", method: "GET",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte(`{"id":"é"}`))
			},
			status: 201, body: `{"id":"é"}`, headers: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "problem+json stays text", method: "GET",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusUnprocessableEntity)
				_, _ = w.Write([]byte(`{"code":"validation_failed"}`))
			},
			status: 422, body: `{"code":"validation_failed"}`,
		},
		{
			name: "binary content type is base64", method: "GET",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "image/png")
				_, _ = w.Write(binary)
			},
			status: 200, body: string(binary), base64: true,
		},
		{
			name: "invalid UTF-8 under a text type is base64", method: "GET",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain; charset=latin1")
				_, _ = w.Write([]byte{'c', 'a', 'f', 0xe9})
			},
			status: 200, body: "caf\xe9", base64: true,
		},
		{
			name: "compressed text is base64", method: "GET",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Encoding", "gzip")
				_, _ = w.Write([]byte("gzipped"))
			},
			status: 200, body: "gzipped", base64: true,
		},
		{
			name: "missing content type is sniffed", method: "GET",
			handler: func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("hello")) },
			status:  200, body: "hello", headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		},
		{
			name: "repeated headers are joined, Set-Cookie goes to cookies", method: "GET",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Add("Link", `</inbox?cursor=a>; rel="next"`)
				w.Header().Add("Link", `</docs>; rel="help"`)
				w.Header().Add("Set-Cookie", "a=1; Path=/; Expires=Sat, 28 Nov 2026 10:00:00 GMT")
				w.Header().Add("Set-Cookie", "b=2")
				w.Header().Set("Connection", "close")
				w.WriteHeader(http.StatusNoContent)
			},
			status:     204,
			headers:    map[string]string{"Link": `</inbox?cursor=a>; rel="next", </docs>; rel="help"`},
			cookies:    []string{"a=1; Path=/; Expires=Sat, 28 Nov 2026 10:00:00 GMT", "b=2"},
			absentHdrs: []string{"Set-Cookie", "Connection"},
		},
		{
			name: "headers changed after WriteHeader are not sent", method: "GET",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Before", "1")
				w.WriteHeader(http.StatusAccepted)
				w.Header().Set("X-After", "1")
			},
			status: 202, headers: map[string]string{"X-Before": "1"}, absentHdrs: []string{"X-After"},
		},
		{
			name: "HEAD has no body", method: "HEAD",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"status":"ok"}`))
			},
			status: 200, body: "",
		},
		{
			name: "a handler that writes nothing answers 200", method: "GET",
			handler: func(w http.ResponseWriter, r *http.Request) {},
			status:  200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := invoke(t, tt.handler, apigw.Options{}, baseEvent(tt.method, "/x"))
			if resp.StatusCode != tt.status {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tt.status)
			}
			if resp.IsBase64Encoded != tt.base64 {
				t.Errorf("isBase64Encoded: got %v, want %v", resp.IsBase64Encoded, tt.base64)
			}
			body := resp.Body
			if resp.IsBase64Encoded {
				b, err := base64.StdEncoding.DecodeString(resp.Body)
				if err != nil {
					t.Fatalf("body is not base64: %v", err)
				}
				body = string(b)
			}
			if body != tt.body {
				t.Errorf("body: got %q, want %q", body, tt.body)
			}
			for k, v := range tt.headers {
				if got := responseHeader(resp, k); got != v {
					t.Errorf("header %s: got %q, want %q", k, got, v)
				}
			}
			for _, k := range tt.absentHdrs {
				if v := responseHeader(resp, k); v != "" {
					t.Errorf("header %s: got %q, want it absent", k, v)
				}
			}
			if !slices.Equal(resp.Cookies, tt.cookies) {
				t.Errorf("cookies: got %q, want %q", resp.Cookies, tt.cookies)
			}
		})
	}
}

func TestPanicIs500(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	resp := invoke(t, h, apigw.Options{}, baseEvent("GET", "/"))
	assertProblem(t, resp, http.StatusInternalServerError, "internal")
	if strings.Contains(resp.Body, "boom") {
		t.Errorf("body reveals the panic: %s", resp.Body)
	}
}

func TestAuthorizerContext(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	exp := float64(now.Add(time.Hour).Unix()) // API Gateway delivers numbers as JSON numbers
	tests := []struct {
		name   string
		lambda map[string]any
		now    time.Time
		status int
		code   string
		want   *auth.Principal
	}{
		{
			name: "our context becomes the principal",
			lambda: map[string]any{"sub": "9f3c2a1b7d4e", "key_id": "9f3c2a1b7d4e", "key_name": "zapier-prod",
				"scopes": "events:write inbox:read", "exp": exp, "jti": "T1"},
			now: now, status: 200,
			want: &auth.Principal{Subject: "9f3c2a1b7d4e", KeyID: "9f3c2a1b7d4e", KeyName: "zapier-prod",
				Scopes: []auth.Scope{auth.ScopeEventsWrite, auth.ScopeInboxRead}, TokenID: "T1", ExpiresAt: now.Add(time.Hour)},
		},
		{
			name:   "a verdict cached past the token's expiry is 401",
			lambda: map[string]any{"sub": "k1", "scopes": "inbox:read", "exp": exp},
			now:    now.Add(time.Hour + auth.Leeway), status: 401, code: "unauthorized",
		},
		{
			name:   "within the leeway the token still counts",
			lambda: map[string]any{"sub": "k1", "scopes": "inbox:read", "exp": exp},
			now:    now.Add(time.Hour + auth.Leeway - time.Second), status: 200,
			want: &auth.Principal{Subject: "k1", KeyID: "k1", Scopes: []auth.Scope{auth.ScopeInboxRead}, ExpiresAt: now.Add(time.Hour)},
		},
		{
			name:   "someone else's context is ignored",
			lambda: map[string]any{"exampleKey": "exampleValue"},
			now:    now, status: 200, want: nil,
		},
		{
			name:   "our context with a wrong type is a 500",
			lambda: map[string]any{"sub": "k1", "scopes": []any{"inbox:read"}},
			now:    now, status: 500, code: "internal",
		},
		{
			name:   "a fractional expiry is a 500",
			lambda: map[string]any{"sub": "k1", "exp": 1.5},
			now:    now, status: 500, code: "internal",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := baseEvent("GET", "/inbox")
			ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: tt.lambda}
			resp := invoke(t, echoHandler(), apigw.Options{Now: func() time.Time { return tt.now }}, ev)
			if tt.code != "" {
				assertProblem(t, resp, tt.status, tt.code)
				if tt.status == 401 && responseHeader(resp, "WWW-Authenticate") != `Bearer error="invalid_token"` {
					t.Errorf("WWW-Authenticate: got %q, want the invalid_token challenge", responseHeader(resp, "WWW-Authenticate"))
				}
				return
			}
			var s seen
			if err := json.Unmarshal([]byte(resp.Body), &s); err != nil {
				t.Fatalf("decode: %v in %s", err, resp.Body)
			}
			switch {
			case tt.want == nil && s.Principal != nil:
				t.Errorf("principal: got %+v, want none", s.Principal)
			case tt.want != nil && s.Principal == nil:
				t.Errorf("principal: got none, want %+v", tt.want)
			case tt.want != nil && !principalEqual(*s.Principal, *tt.want):
				t.Errorf("principal: got %+v, want %+v", *s.Principal, *tt.want)
			}
		})
	}
}

func principalEqual(a, b auth.Principal) bool {
	return a.Subject == b.Subject && a.KeyID == b.KeyID && a.KeyName == b.KeyName && a.TokenID == b.TokenID &&
		slices.Equal(a.Scopes, b.Scopes) && a.ExpiresAt.Equal(b.ExpiresAt)
}

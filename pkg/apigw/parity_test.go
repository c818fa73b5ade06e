package apigw_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/triggershq/triggers/pkg/apigw"
	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/boltstore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/httpapi"
	"github.com/triggershq/triggers/pkg/routes"
)

// parityRequest is one client request, sent both ways.
type parityRequest struct {
	name     string
	method   string
	path     string // decoded, as API Gateway's rawPath
	query    string // encoded, as rawQueryString
	header   map[string]string
	body     string
	token    string // "full", "readonly" or "" for none
	function string // the Lambda function serving it on AWS
}

// TestBadInputParity sends the same bad requests to the single binary's
// handler (over real HTTP) and, as API Gateway events, to each function's
// handler through the adapter, and requires the same answer: status, problem
// body byte for byte, and the headers that matter to clients.
func TestBadInputParity(t *testing.T) {
	t.Parallel()
	b := newAuth(t)
	readonly := readOnlyToken(t, b)
	full := b.token(t)

	store, err := boltstore.Open(filepath.Join(t.TempDir(), "triggers.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	api, err := httpapi.New(httpapi.Config{Store: store, Auth: b.authn, MaxBodyBytes: 2048, Now: b.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	single := httptest.NewServer(api.Handler())
	t.Cleanup(single.Close)
	authorize := apigw.Authorizer(b.authn, apigw.AuthorizerOptions{})

	jsonCT := map[string]string{"content-type": "application/json"}
	formCT := map[string]string{"content-type": "application/x-www-form-urlencoded"}
	unknownID := new(event.IDs).New(b.clock.Now())
	cases := []parityRequest{
		{name: "malformed JSON", method: "POST", path: "/events", header: jsonCT, body: `{"type":`, token: "full", function: "ingest"},
		{name: "missing fields", method: "POST", path: "/events", header: jsonCT, body: `{}`, token: "full", function: "ingest"},
		{name: "payload not an object", method: "POST", path: "/events", header: jsonCT, body: `{"type":"a","source":"b","payload":[1]}`, token: "full", function: "ingest"},
		{name: "wrong content type", method: "POST", path: "/events", header: map[string]string{"content-type": "text/plain"}, body: `{}`, token: "full", function: "ingest"},
		{name: "body over the limit", method: "POST", path: "/events", header: jsonCT, body: `{"type":"a","source":"b","payload":{"x":"` + strings.Repeat("x", 3000) + `"}}`, token: "full", function: "ingest"},
		{name: "bad idempotency key", method: "POST", path: "/events", header: map[string]string{"content-type": "application/json", "idempotency-key": strings.Repeat("k", 300)}, body: `{"type":"a","source":"b","payload":{}}`, token: "full", function: "ingest"},
		{name: "missing scope", method: "POST", path: "/events", header: jsonCT, body: `{"type":"a","source":"b","payload":{}}`, token: "readonly", function: "ingest"},
		{name: "method not allowed", method: "PUT", path: "/events", header: jsonCT, body: `{}`, token: "full", function: "ingest"},
		{name: "unknown path", method: "GET", path: "/nope", token: "full", function: "inbox"},
		{name: "malformed event id", method: "GET", path: "/events/not-an-id", token: "full", function: "inbox"},
		{name: "id with an encoded slash", method: "GET", path: "/events/a/b", token: "full", function: "inbox"},
		{name: "limit zero", method: "GET", path: "/inbox", query: "limit=0", token: "full", function: "inbox"},
		{name: "limit word", method: "GET", path: "/inbox", query: "limit=ten&limit=5", token: "full", function: "inbox"},
		{name: "garbage cursor", method: "GET", path: "/inbox", query: "cursor=%E2%98%83garbage", token: "full", function: "inbox"},
		{name: "ack malformed id", method: "POST", path: "/inbox/zzz/ack", token: "full", function: "ack"},
		{name: "ack unknown id", method: "POST", path: "/inbox/" + unknownID + "/ack", token: "full", function: "ack"},
		{name: "token wrong key", method: "POST", path: "/token", header: formCT, body: "username=api&password=trg_000000000000_nope", function: "token"},
		{name: "token no password", method: "POST", path: "/token", header: formCT, body: "username=api", function: "token"},
		{name: "token bad grant", method: "POST", path: "/token", header: formCT, body: "grant_type=client_credentials&password=x", function: "token"},
		{name: "token JSON without key", method: "POST", path: "/token", header: jsonCT, body: `{"api_key":""}`, function: "token"},
		{name: "token unsupported media", method: "POST", path: "/token", header: map[string]string{"content-type": "text/plain"}, body: "x", function: "token"},
		{name: "health wrong method", method: "DELETE", path: "/health", function: "meta"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if len(routes.ForFunction(tc.function)) == 0 {
				t.Fatalf("function %q serves no routes", tc.function)
			}
			tok := map[string]string{"full": full, "readonly": readonly}[tc.token]
			want := sendHTTP(t, single.URL, tc, tok)

			ev := parityEvent(tc, tok)
			if tok != "" {
				verdict, err := authorize(context.Background(), authorizerEvent(t, "Bearer "+tok))
				if err != nil || !verdict.IsAuthorized {
					t.Fatalf("authorizer: %v %v", verdict.IsAuthorized, err)
				}
				ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: viaJSON(t, verdict.Context)}
			}
			got := invoke(t, api.FunctionHandler(tc.function), apigw.Options{Now: b.clock.Now}, ev)

			if got.StatusCode != want.status {
				t.Errorf("status: lambda %d, single binary %d", got.StatusCode, want.status)
			}
			if want.status < 400 {
				t.Fatalf("single binary answered %d: the case is not bad input", want.status)
			}
			if got.Body != want.body {
				t.Errorf("body:\nlambda        %s\nsingle binary %s", got.Body, want.body)
			}
			for _, h := range []string{"Content-Type", "WWW-Authenticate", "Allow", "Accept-Post", "Retry-After", "Cache-Control"} {
				if responseHeader(got, h) != want.header.Get(h) {
					t.Errorf("%s: lambda %q, single binary %q", h, responseHeader(got, h), want.header.Get(h))
				}
			}
		})
	}
}

type httpAnswer struct {
	status int
	header http.Header
	body   string
}

func sendHTTP(t *testing.T, base string, tc parityRequest, tok string) httpAnswer {
	t.Helper()
	u := base + (&url.URL{Path: tc.path}).EscapedPath()
	if tc.query != "" {
		u += "?" + tc.query
	}
	req, err := http.NewRequest(tc.method, u, strings.NewReader(tc.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range tc.header {
		req.Header.Set(k, v)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return httpAnswer{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// parityEvent is the event API Gateway would send for tc: lower-case header
// names, a decoded rawPath, and a form body base64-encoded.
func parityEvent(tc parityRequest, tok string) events.APIGatewayV2HTTPRequest {
	ev := baseEvent(tc.method, tc.path)
	ev.RawQueryString = tc.query
	for k, v := range tc.header {
		ev.Headers[strings.ToLower(k)] = v
	}
	if tok != "" {
		ev.Headers["authorization"] = "Bearer " + tok
	}
	ev.Body = tc.body
	if strings.HasPrefix(tc.header["content-type"], "application/x-www-form-urlencoded") {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(tc.body)), true
	}
	return ev
}

// readOnlyToken issues a token for a second API key holding only inbox:read.
func readOnlyToken(t *testing.T, b *authBundle) string {
	t.Helper()
	plain, key, err := auth.GenerateAPIKey("reader", []auth.Scope{auth.ScopeInboxRead}, b.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	c := b.creds.Load().Clone()
	if err := c.AddAPIKey(key); err != nil {
		t.Fatal(err)
	}
	b.creds.Store(c)
	tok, err := b.authn.IssueToken(context.Background(), plain)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// responseHeader looks a header up in a response case-insensitively, as
// API Gateway and HTTP clients treat header names.
func responseHeader(resp events.APIGatewayV2HTTPResponse, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

package functions_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"
	"github.com/triggershq/triggers/internal/testenv"
	"github.com/triggershq/triggers/pkg/auth"
)

// startAll starts the named functions, each under its own emulator.
func startAll(t *testing.T, w *world, names ...string) map[string]*emulator {
	t.Helper()
	out := map[string]*emulator{}
	for _, n := range names {
		out[n] = startEmulator(t, n, w.env())
	}
	return out
}

func newRequestID() string {
	return strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(rand.Text()[:10])), "=")
}

// tokenEvent is POST /token with the seed's OAuth2 password form, body
// base64-encoded as API Gateway sends forms.
func tokenEvent(t testing.TB, apiKey, sourceIP string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	ev := loadFixture[events.APIGatewayV2HTTPRequest](t, "token-form.json")
	form := url.Values{"grant_type": {"password"}, "username": {"api"}, "password": {apiKey}}.Encode()
	ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(form)), true
	ev.Headers["content-length"] = strconv.Itoa(len(form))
	ev.RequestContext.HTTP.SourceIP = sourceIP
	ev.Headers["x-forwarded-for"] = sourceIP
	ev.RequestContext.RequestID = newRequestID()
	return ev
}

// getToken runs POST /token through the token function.
func getToken(t testing.TB, token *emulator, apiKey string) string {
	t.Helper()
	inv := token.invokeHTTP(t, tokenEvent(t, apiKey, "203.0.113.7"))
	if inv.response.StatusCode != http.StatusOK {
		t.Fatalf("POST /token: got %d %s, want 200", inv.response.StatusCode, inv.response.Body)
	}
	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   any    `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(inv.response.Body), &body); err != nil {
		t.Fatal(err)
	}
	if body.AccessToken == "" || body.TokenType != "bearer" || body.ExpiresIn == nil {
		t.Fatalf("POST /token: got %s, want an access_token, bearer and expires_in", inv.response.Body)
	}
	return body.AccessToken
}

// authorizerEvent is the authorizer request API Gateway sends for a
// protected route with this Authorization header.
func authorizerEvent(t testing.TB, authorization string) events.APIGatewayV2CustomAuthorizerV2Request {
	t.Helper()
	req := loadFixture[events.APIGatewayV2CustomAuthorizerV2Request](t, "authorizer.json")
	req.Headers["authorization"] = authorization
	req.IdentitySource = []string{authorization}
	req.RequestContext.RequestID = newRequestID()
	return req
}

// verdict is the authorizer's simple response, decoded as API Gateway
// decodes it (context numbers are float64).
type verdict struct {
	IsAuthorized bool           `json:"isAuthorized"`
	Context      map[string]any `json:"context"`
}

func authorize(t testing.TB, authorizer *emulator, authorization string) verdict {
	t.Helper()
	inv := authorizer.invoke(t, authorizerEvent(t, authorization))
	var v verdict
	if err := json.Unmarshal(inv.payload, &v); err != nil {
		t.Fatalf("authorizer answer %s: %v", inv.payload, err)
	}
	return v
}

// protectedEvent loads a protected route's fixture and gives it what API
// Gateway adds after an allow verdict: the authorizer's context.
func protectedEvent(t testing.TB, fixture, token string, v verdict, id string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	ev := loadFixture[events.APIGatewayV2HTTPRequest](t, fixture)
	ev.Headers["authorization"] = "Bearer " + token
	ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: v.Context}
	ev.RequestContext.RequestID = newRequestID()
	if id != "" {
		ev.RawPath = strings.ReplaceAll(ev.RawPath, "REPLACED_BY_TEST", id)
		ev.RequestContext.HTTP.Path = ev.RawPath
		for k := range ev.PathParameters {
			ev.PathParameters[k] = id
		}
	}
	return ev
}

func wantStatus(t testing.TB, what string, inv invocation, status int) {
	t.Helper()
	if inv.response.StatusCode != status {
		t.Fatalf("%s: got %d %s, want %d", what, inv.response.StatusCode, inv.response.Body, status)
	}
}

// TestSeedFlow drives the seed's whole flow through the real binaries:
// token → authorizer → ingest → inbox → get → ack → inbox without it.
func TestSeedFlow(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	w := newWorld(t)
	fn := startAll(t, w, "meta", "token", "authorizer", "ingest", "inbox", "ack")

	health := fn["meta"].invokeHTTP(t, loadFixture[events.APIGatewayV2HTTPRequest](t, "health.json"))
	wantStatus(t, "GET /health", health, http.StatusOK)
	if !strings.Contains(health.response.Body, `"status":"ok"`) {
		t.Errorf("GET /health: got %s, want status ok", health.response.Body)
	}

	tok := getToken(t, fn["token"], w.keyA)
	v := authorize(t, fn["authorizer"], "Bearer "+tok)
	if !v.IsAuthorized || v.Context["sub"] != w.idA || v.Context["scopes"] != "events:write inbox:read inbox:ack subscriptions:manage" {
		t.Fatalf("authorizer: got %+v, want an allow for key %s with every scope", v, w.idA)
	}

	created := fn["ingest"].invokeHTTP(t, protectedEvent(t, "ingest.json", tok, v, ""))
	wantStatus(t, "POST /events", created, http.StatusCreated)
	var ev struct {
		ID        string `json:"id"`
		Status    string `json:"status"`
		Timestamp string `json:"timestamp"`
	}
	if err := json.Unmarshal([]byte(created.response.Body), &ev); err != nil || ev.ID == "" || ev.Status != "pending" {
		t.Fatalf("POST /events: got %s, want an id and status pending", created.response.Body)
	}

	inbox := fn["inbox"].invokeHTTP(t, protectedEvent(t, "inbox.json", tok, v, ""))
	wantStatus(t, "GET /inbox", inbox, http.StatusOK)
	if ids := inboxIDs(t, inbox); !slices.Contains(ids, ev.ID) {
		t.Fatalf("GET /inbox: got %v, want it to list %s", ids, ev.ID)
	}

	got := fn["inbox"].invokeHTTP(t, protectedEvent(t, "get-event.json", tok, v, ev.ID))
	wantStatus(t, "GET /events/{id}", got, http.StatusOK)
	var full map[string]any
	if err := json.Unmarshal([]byte(got.response.Body), &full); err != nil {
		t.Fatal(err)
	}
	if full["type"] != "user.created" || full["source"] != "web-app" || full["payload"].(map[string]any)["email"] != "user@example.com" {
		t.Errorf("GET /events/{id}: got %s, want the event as sent", got.response.Body)
	}

	acked := fn["ack"].invokeHTTP(t, protectedEvent(t, "ack.json", tok, v, ev.ID))
	wantStatus(t, "POST /inbox/{id}/ack", acked, http.StatusOK)
	if !strings.Contains(acked.response.Body, `"status":"delivered"`) {
		t.Errorf("ack: got %s, want status delivered", acked.response.Body)
	}

	after := fn["inbox"].invokeHTTP(t, protectedEvent(t, "inbox.json", tok, v, ""))
	wantStatus(t, "GET /inbox after ack", after, http.StatusOK)
	if ids := inboxIDs(t, after); slices.Contains(ids, ev.ID) {
		t.Errorf("GET /inbox after ack: got %v, want %s gone", ids, ev.ID)
	}
	again := fn["ack"].invokeHTTP(t, protectedEvent(t, "ack.json", tok, v, ev.ID))
	wantStatus(t, "repeated ack", again, http.StatusOK)

	for name, e := range fn {
		assertNoSecrets(t, name, e.Out.String(), w, tok)
	}
}

func inboxIDs(t testing.TB, inv invocation) []string {
	t.Helper()
	var list []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(inv.response.Body), &list); err != nil {
		t.Fatalf("GET /inbox: want a JSON array, got %s", inv.response.Body)
	}
	ids := make([]string, len(list))
	for i, e := range list {
		ids[i] = e.ID
	}
	return ids
}

// assertNoSecrets fails if a function's output shows an API key, a token,
// a signing key or a hash.
func assertNoSecrets(t testing.TB, name, logs string, w *world, tokens ...string) {
	t.Helper()
	secrets := append([]string{w.keyA, w.keyB}, tokens...)
	for _, k := range w.creds.SigningKeys {
		secrets = append(secrets, string(k))
	}
	for _, k := range w.creds.APIKeys {
		secrets = append(secrets, k.Hash)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("%s's output contains a secret (%d bytes long)", name, len(s))
		}
	}
}

// signed makes a token the way the token function does, with the given
// key and times, so the authorizer's checks can be aimed one at a time.
func signed(t testing.TB, kid string, key []byte, sub string, iat, exp time.Time) string {
	t.Helper()
	claims := jwt.MapClaims{
		"iss": auth.DefaultIssuer, "aud": []string{auth.DefaultAudience}, "sub": sub,
		"iat": iat.Unix(), "nbf": iat.Unix(), "exp": exp.Unix(), "jti": rand.Text(), "scope": "inbox:read",
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAuthorizerRejects runs the authorizer binary on tokens that must be
// denied, each next to a control that must be allowed.
func TestAuthorizerRejects(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	w := newWorld(t)
	token := startAll(t, w, "token")["token"]
	tokA := getToken(t, token, w.keyA)
	tokB := getToken(t, token, w.keyB)

	// Revoke key B in the secret. The authorizer starts afterwards, so its
	// first read of the secret already has the revocation: no waiting for a
	// cache to expire.
	revoked := w.creds.Clone()
	if err := revoked.RevokeAPIKey(w.idB, time.Now()); err != nil {
		t.Fatal(err)
	}
	w.putCredentials(t, revoked)
	authorizer := startAll(t, w, "authorizer")["authorizer"]

	now := time.Now()
	kid, key := w.creds.ActiveKID, w.creds.SigningKeys[w.creds.ActiveKID]
	parts := strings.Split(tokA, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(`"scope":"`), []byte(`"scope":"x `), 1)) + "." + parts[2]

	tests := []struct {
		name   string
		header string
		allow  bool
	}{
		{"control: a token from the token function", "Bearer " + tokA, true},
		{"control: a token made like ours", "Bearer " + signed(t, kid, key, w.idA, now.Add(-time.Minute), now.Add(time.Hour)), true},
		{"garbage", "Bearer garbage", false},
		{"not bearer", "Basic " + base64.StdEncoding.EncodeToString([]byte("api:"+w.keyA)), false},
		{"empty", "", false},
		{"expired", "Bearer " + signed(t, kid, key, w.idA, now.Add(-2*time.Hour), now.Add(-time.Hour)), false},
		{"tampered payload", "Bearer " + tampered, false},
		{"signed with another key", "Bearer " + signed(t, kid, []byte(strings.Repeat("k", 52)), w.idA, now, now.Add(time.Hour)), false},
		{"unknown kid", "Bearer " + signed(t, "k20990101zzzzzz", key, w.idA, now, now.Add(time.Hour)), false},
		{"revoked key", "Bearer " + tokB, false},
	}
	for _, tt := range tests {
		v := authorize(t, authorizer, tt.header)
		if v.IsAuthorized != tt.allow {
			t.Errorf("%s: isAuthorized %v, want %v", tt.name, v.IsAuthorized, tt.allow)
		}
		if !tt.allow && v.Context != nil {
			t.Errorf("%s: a denial carries context %v", tt.name, v.Context)
		}
	}
	logs := authorizer.Out.String()
	if n := strings.Count(logs, "authorizer: denied"); n != 8 {
		t.Errorf("denial log lines: got %d, want 8", n)
	}
	assertNoSecrets(t, "authorizer", logs, w, tokA, tokB, tampered)
}

// badCase is one bad request, sent to the single binary over HTTP and to
// the function that serves it as an API Gateway event.
type badCase struct {
	name, fn, fixture, method, path, query, contentType, body string
	authorized                                                bool
	// storeWording marks an answer whose detail comes from the store: the
	// single binary runs on bbolt and the functions on DynamoDB, so only
	// status, code and the located field are compared.
	storeWording bool
}

// TestBadInputMatchesSingleBinary checks that bad input gets the same
// problem+json from the Lambda functions as from `triggers serve`.
func TestBadInputMatchesSingleBinary(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	w := newWorld(t)
	fn := startAll(t, w, "token", "authorizer", "ingest", "inbox", "ack")
	tok := getToken(t, fn["token"], w.keyA)
	v := authorize(t, fn["authorizer"], "Bearer "+tok)

	srv := testenv.StartServer(t, testenv.ServerOptions{})
	if srv.APIKey == "" {
		t.Fatalf("triggers serve printed no API key:\n%s", srv.Stdout())
	}
	localTok := serverToken(t, srv.URL, srv.APIKey)

	unknown := "0193a8e4-7c2b-7def-8abc-0123456789ab"
	cases := []badCase{
		{name: "malformed JSON", fn: "ingest", fixture: "ingest.json", method: "POST", path: "/events", contentType: "application/json", body: `{"type":`, authorized: true},
		{name: "missing type", fn: "ingest", fixture: "ingest.json", method: "POST", path: "/events", contentType: "application/json", body: `{"source":"s","payload":{}}`, authorized: true},
		{name: "payload not an object", fn: "ingest", fixture: "ingest.json", method: "POST", path: "/events", contentType: "application/json", body: `{"type":"t","source":"s","payload":"x"}`, authorized: true},
		{name: "unsupported media type", fn: "ingest", fixture: "ingest.json", method: "POST", path: "/events", contentType: "text/plain", body: `hello`, authorized: true},
		{name: "limit out of range", fn: "inbox", fixture: "inbox.json", method: "GET", path: "/inbox", query: "limit=1000", authorized: true},
		{name: "forged cursor", fn: "inbox", fixture: "inbox.json", method: "GET", path: "/inbox", query: "cursor=AAAA", authorized: true, storeWording: true},
		{name: "malformed id", fn: "inbox", fixture: "get-event.json", method: "GET", path: "/events/nope", authorized: true},
		{name: "ack of an unknown id", fn: "ack", fixture: "ack.json", method: "POST", path: "/inbox/" + unknown + "/ack", authorized: true},
		{name: "wrong API key", fn: "token", fixture: "token-form.json", method: "POST", path: "/token", contentType: "application/x-www-form-urlencoded", body: "username=api&password=trg_000000000000_wrong"},
		{name: "no password", fn: "token", fixture: "token-form.json", method: "POST", path: "/token", contentType: "application/x-www-form-urlencoded", body: "username=api"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, header, body := sendLocal(t, srv.URL, c, localTok)
			inv := fn[c.fn].invokeHTTP(t, badEvent(t, c, tok, v))
			if status < 400 || status >= 500 {
				t.Fatalf("single binary answered %d: not a bad-input case", status)
			}
			if inv.response.StatusCode != status {
				t.Errorf("status: lambda %d, single binary %d", inv.response.StatusCode, status)
			}
			switch {
			case c.storeWording:
				if g, w := problemShape(t, inv.response.Body), problemShape(t, body); g != w {
					t.Errorf("problem:\nlambda        %s\nsingle binary %s", g, w)
				}
			case inv.response.Body != body:
				t.Errorf("body:\nlambda        %s\nsingle binary %s", inv.response.Body, body)
			}
			for _, h := range []string{"Content-Type", "WWW-Authenticate", "Accept-Post"} {
				if got := headerOf(inv.response, h); got != header.Get(h) {
					t.Errorf("%s: lambda %q, single binary %q", h, got, header.Get(h))
				}
			}
		})
	}
}

// problemShape is a problem's type, status, code and error locations,
// without the wording.
func problemShape(t testing.TB, body string) string {
	t.Helper()
	var p struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
		Code   string `json:"code"`
		Errors []struct {
			Loc []string `json:"loc"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("not problem+json: %s", body)
	}
	out, _ := json.Marshal(p)
	return string(out)
}

func headerOf(resp events.APIGatewayV2HTTPResponse, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// badEvent builds the API Gateway event of a bad case from its fixture.
func badEvent(t testing.TB, c badCase, tok string, v verdict) events.APIGatewayV2HTTPRequest {
	t.Helper()
	var ev events.APIGatewayV2HTTPRequest
	if c.authorized {
		ev = protectedEvent(t, c.fixture, tok, v, "")
	} else {
		ev = loadFixture[events.APIGatewayV2HTTPRequest](t, c.fixture)
	}
	ev.RawPath, ev.RequestContext.HTTP.Path, ev.RequestContext.HTTP.Method = c.path, c.path, c.method
	ev.RawQueryString = c.query
	ev.Headers["content-type"] = c.contentType
	if c.contentType == "" {
		delete(ev.Headers, "content-type")
	}
	ev.Body, ev.IsBase64Encoded = c.body, false
	if c.contentType == "application/x-www-form-urlencoded" {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(c.body)), true
	}
	ev.Headers["content-length"] = strconv.Itoa(len(c.body))
	return ev
}

func sendLocal(t testing.TB, base string, c badCase, tok string) (int, http.Header, string) {
	t.Helper()
	u := base + c.path
	if c.query != "" {
		u += "?" + c.query
	}
	req, err := http.NewRequest(c.method, u, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	if c.authorized {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

func serverToken(t testing.TB, base, apiKey string) string {
	t.Helper()
	resp, err := http.PostForm(base+"/token", url.Values{"username": {"api"}, "password": {apiKey}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("triggers serve /token: status %d, %v", resp.StatusCode, err)
	}
	return body.AccessToken
}

// TestTokenLimitHoldsAcrossInstances runs two token functions on one table
// and spreads one client's wrong guesses over both: the limit counts them
// together, as it must when API Gateway spreads requests over instances.
func TestTokenLimitHoldsAcrossInstances(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	w := newWorld(t)
	a := startEmulator(t, "token", w.env())
	b := startEmulator(t, "token", w.env())
	const guesser = "198.51.100.77"
	const maxFailures = 10 // dynamostore.DefaultLimiterMaxFailures
	instances := []*emulator{a, b}
	for i := range maxFailures {
		inv := instances[i%2].invokeHTTP(t, tokenEvent(t, fmt.Sprintf("trg_%012d_guess", i), guesser))
		wantStatus(t, fmt.Sprintf("wrong guess %d", i+1), inv, http.StatusUnauthorized)
	}
	for _, e := range instances {
		// Even the right key is refused now: the client must wait.
		inv := e.invokeHTTP(t, tokenEvent(t, w.keyA, guesser))
		wantStatus(t, "attempt after the limit", inv, http.StatusTooManyRequests)
		if ra, err := strconv.Atoi(headerOf(inv.response, "Retry-After")); err != nil || ra < 1 {
			t.Errorf("Retry-After: got %q, want a positive number of seconds", headerOf(inv.response, "Retry-After"))
		}
	}
	// Another client is not affected.
	inv := b.invokeHTTP(t, tokenEvent(t, w.keyA, "198.51.100.78"))
	wantStatus(t, "another client", inv, http.StatusOK)
}

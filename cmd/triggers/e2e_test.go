package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/triggershq/triggers/internal/testenv"
)

// client is the smallest HTTP client the end-to-end tests need: the seed's
// own calls, made the way its Python client makes them.
type client struct {
	t     *testing.T
	base  string
	token string
}

func (c *client) do(method, path, contentType string, body []byte) (int, http.Header, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func (c *client) login(apiKey string) {
	c.t.Helper()
	form := url.Values{"username": {"api"}, "password": {apiKey}}
	status, _, body := c.do("POST", "/token", "application/x-www-form-urlencoded", []byte(form.Encode()))
	if status != http.StatusOK {
		c.t.Fatalf("POST /token: got %d %s, want 200", status, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	mustJSON(c.t, body, &tok)
	if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
		c.t.Fatalf("token response %s lacks a bearer access_token", body)
	}
	c.token = tok.AccessToken
}

func (c *client) send(typ string, payload string) string {
	c.t.Helper()
	body := fmt.Sprintf(`{"type":%q,"source":"e2e","payload":%s}`, typ, payload)
	status, _, resp := c.do("POST", "/events", "application/json", []byte(body))
	if status != http.StatusCreated {
		c.t.Fatalf("POST /events: got %d %s, want 201", status, resp)
	}
	var created struct{ ID, Status, Timestamp string }
	mustJSON(c.t, resp, &created)
	if created.ID == "" || created.Status != "pending" || created.Timestamp == "" {
		c.t.Fatalf("POST /events answered %s", resp)
	}
	return created.ID
}

type inboxEvent struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
	Status  string          `json:"status"`
}

func (c *client) inbox() []inboxEvent {
	c.t.Helper()
	status, _, body := c.do("GET", "/inbox", "", nil)
	if status != http.StatusOK {
		c.t.Fatalf("GET /inbox: got %d %s, want 200", status, body)
	}
	var events []inboxEvent
	mustJSON(c.t, body, &events)
	return events
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

func contains(events []inboxEvent, id string) bool {
	for _, e := range events {
		if e.ID == id {
			return true
		}
	}
	return false
}

// TestSeedFlow runs the seed's whole documented flow against the real binary:
// token → event → inbox → ack → gone from the inbox, then checks that the
// logs never held the API key, the token or an Authorization header.
func TestSeedFlow(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	srv := testenv.StartServer(t, testenv.ServerOptions{})
	if srv.APIKey == "" {
		t.Fatalf("first start printed no API key; stdout:\n%s", srv.Stdout())
	}
	c := &client{t: t, base: srv.URL}
	if status, _, body := c.do("GET", "/health", "", nil); status != 200 {
		t.Fatalf("GET /health: got %d %s", status, body)
	}
	c.login(srv.APIKey)

	payload := `{"user_id":"12345","total":99.990000000000000001,"big":123456789012345678901234567890}`
	id := c.send("user.signup", payload)
	events := c.inbox()
	if len(events) != 1 || events[0].ID != id {
		t.Fatalf("inbox: got %+v, want just %s", events, id)
	}
	if string(events[0].Payload) != payload {
		t.Errorf("payload round trip: got %s, want %s", events[0].Payload, payload)
	}

	status, _, body := c.do("POST", "/inbox/"+id+"/ack", "application/json", []byte("{}"))
	if status != http.StatusOK {
		t.Fatalf("ack: got %d %s", status, body)
	}
	var acked inboxEvent
	mustJSON(t, body, &acked)
	if acked.Status != "delivered" {
		t.Errorf("ack status: got %q, want delivered", acked.Status)
	}
	if contains(c.inbox(), id) {
		t.Errorf("acked event %s still in the inbox", id)
	}
	if status, _, _ := c.do("POST", "/inbox/"+id+"/ack", "", nil); status != http.StatusOK {
		t.Errorf("repeat ack: got %d, want 200", status)
	}

	if code := srv.Stop(30 * time.Second); code != 0 {
		t.Errorf("SIGTERM exit code: got %d, want 0\nstderr:\n%s", code, srv.Stderr())
	}
	logs := srv.Stderr()
	for name, secret := range map[string]string{"API key": srv.APIKey, "token": c.token, "Authorization header": "Bearer "} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain the %s", name)
		}
	}
	if !strings.Contains(logs, `"route":"POST /events"`) {
		t.Errorf("logs lack the access log line for POST /events:\n%s", logs)
	}
}

// TestEnvAPIKey: TRIGGERS_API_KEY is accepted with every scope, and no key is
// generated or printed when it is set.
func TestEnvAPIKey(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	const key = "operator-chosen-secret-0123456789"
	srv := testenv.StartServer(t, testenv.ServerOptions{Env: []string{"TRIGGERS_API_KEY=" + key}})
	if srv.APIKey != "" || strings.Contains(srv.Stdout(), "shown once") {
		t.Fatalf("a key was generated although TRIGGERS_API_KEY was set:\n%s", srv.Stdout())
	}
	c := &client{t: t, base: srv.URL}
	c.login(key)
	id := c.send("env.key", `{}`)
	if !contains(c.inbox(), id) {
		t.Fatalf("event %s not in the inbox", id)
	}
	if strings.Contains(srv.Stderr(), key) {
		t.Error("logs contain TRIGGERS_API_KEY")
	}
}

// TestKeysCLIWhileServing: keys created by the CLI work on the running server
// and a revoked key's tokens stop working within seconds.
func TestKeysCLIWhileServing(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	srv := testenv.StartServer(t, testenv.ServerOptions{})
	out := runCLI(t, 0, "keys", "create", "--data", srv.DataDir, "--name", "zapier", "--scopes", "inbox:read,inbox:ack")
	key := firstKey(t, out)

	c := &client{t: t, base: srv.URL}
	c.login(key)
	if status, _, _ := c.do("GET", "/inbox", "", nil); status != http.StatusOK {
		t.Fatalf("new key's token: GET /inbox got %d, want 200", status)
	}
	if status, _, body := c.do("POST", "/events", "application/json", []byte(`{"type":"a","source":"b","payload":{}}`)); status != http.StatusForbidden {
		t.Fatalf("key without events:write: POST /events got %d %s, want 403", status, body)
	}

	list := runCLI(t, 0, "keys", "list", "--data", srv.DataDir, "--json")
	var keys []struct{ ID, Name string }
	mustJSON(t, []byte(list), &keys)
	var id string
	for _, k := range keys {
		if k.Name == "zapier" {
			id = k.ID
		}
	}
	if id == "" || strings.Contains(list, "argon2") || strings.Contains(list, key) {
		t.Fatalf("keys list: want the zapier key and no secrets, got %s", list)
	}
	runCLI(t, 0, "keys", "revoke", id, "--data", srv.DataDir)

	deadline := time.Now().Add(10 * time.Second)
	for {
		status, hdr, _ := c.do("GET", "/inbox", "", nil)
		if status == http.StatusUnauthorized {
			if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoked key's token still works after 10s (status %d)", status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	runCLI(t, 2, "keys", "revoke")
	runCLI(t, 2, "keys", "frobnicate")
}

// TestSecondServerFailsFast: a second server on the same data directory
// fails at once with a clear message instead of hanging on the file lock.
func TestSecondServerFailsFast(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	srv := testenv.StartServer(t, testenv.ServerOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.TriggersBinary(t), "serve", "--addr", "127.0.0.1:0", "--data", srv.DataDir)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatal("second server on the same data directory hung")
	}
	if err == nil || cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("second server: got %v, want exit code 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "store") {
		t.Errorf("second server's error does not say what failed:\n%s", out)
	}
}

func runCLI(t *testing.T, wantCode int, args ...string) string {
	t.Helper()
	cmd := exec.Command(testenv.TriggersBinary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			t.Fatalf("triggers %v: %v", args, err)
		}
	}
	if code != wantCode {
		t.Fatalf("triggers %v: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, wantCode, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func firstKey(t *testing.T, out string) string {
	t.Helper()
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "trg_") {
			return f
		}
	}
	t.Fatalf("no key in output %q", out)
	return ""
}

func TestMain(m *testing.M) { testenv.Main(m) }

// TestShutdownCutsOffSlowClients: a client trickling its body cannot hold a
// SIGTERM hostage; after --shutdown-timeout the server closes it and still
// exits 0, with its store closed cleanly.
func TestShutdownCutsOffSlowClients(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	srv := testenv.StartServer(t, testenv.ServerOptions{Args: []string{"--shutdown-timeout", "1s"}})
	host := strings.TrimPrefix(srv.URL, "http://")
	for range 5 {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /events HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"type\":", host)
	}
	time.Sleep(200 * time.Millisecond) // let the server read the headers
	start := time.Now()
	if code := srv.Stop(30 * time.Second); code != 0 {
		t.Errorf("exit code with slow clients: got %d, want 0\n%s", code, srv.Stderr())
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("shutdown took %v with a 1s timeout", d)
	}
	if !strings.Contains(srv.Stderr(), "shutdown timeout reached") {
		t.Errorf("the forced close is not logged:\n%s", srv.Stderr())
	}
}

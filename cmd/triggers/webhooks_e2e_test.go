package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/internal/testenv"
)

// hookReceiver is a webhook receiver on loopback that checks every
// request's Standard Webhooks signature with testenv's independent check and
// counts, per webhook-id, the requests it answered 2xx. While held, it
// answers nothing until the sender hangs up or it is released.
type hookReceiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	secrets  map[string]string // path → subscription secret
	accepted map[string]int    // webhook-id → requests answered 200
	bodies   map[string][]byte // webhook-id → body
	bad      []string
	held     bool
	holding  int
	release  chan struct{}
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{secrets: map[string]string{}, accepted: map[string]int{}, bodies: map[string][]byte{}, release: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(func() { h.setHeld(false); h.srv.Close() })
	return h
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id := r.Header.Get("webhook-id")
	h.mu.Lock()
	secret := h.secrets[r.URL.Path]
	held, release := h.held, h.release
	if held {
		h.holding++
	}
	h.mu.Unlock()
	if err := testenv.VerifyWebhookSignature(secret, r.Header, body); err != nil {
		h.mu.Lock()
		h.bad = append(h.bad, id+": "+err.Error())
		h.mu.Unlock()
	}
	if held {
		select {
		case <-r.Context().Done():
			return // the sender went away: not delivered
		case <-release:
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Context().Err() != nil {
		return
	}
	h.accepted[id]++
	h.bodies[id] = body
	w.WriteHeader(http.StatusOK)
}

func (h *hookReceiver) setHeld(held bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held && !held {
		close(h.release)
		h.release = make(chan struct{})
	}
	h.held = held
}

func (h *hookReceiver) snapshot() (accepted map[string]int, holding int, bad []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	accepted = map[string]int{}
	for k, v := range h.accepted {
		accepted[k] = v
	}
	return accepted, h.holding, append([]string(nil), h.bad...)
}

type subscription struct {
	ID             string   `json:"id"`
	TargetURL      string   `json:"target_url"`
	EventTypes     []string `json:"event_types"`
	Secret         string   `json:"secret"`
	Status         string   `json:"status"`
	DisabledReason string   `json:"disabled_reason"`
	CreatedAt      string   `json:"created_at"`
}

func (c *client) subscribe(h *hookReceiver, path string, types ...string) subscription {
	c.t.Helper()
	if types == nil {
		types = []string{}
	}
	body, _ := json.Marshal(map[string]any{"target_url": h.srv.URL + path, "event_types": types})
	status, _, resp := c.do("POST", "/subscriptions", "application/json", body)
	if status != http.StatusCreated {
		c.t.Fatalf("POST /subscriptions: got %d %s, want 201", status, resp)
	}
	var s subscription
	mustJSON(c.t, resp, &s)
	if s.ID == "" || !strings.HasPrefix(s.Secret, "whsec_") || s.CreatedAt == "" || s.TargetURL != h.srv.URL+path {
		c.t.Fatalf("POST /subscriptions answered %s", resp)
	}
	h.mu.Lock()
	h.secrets[path] = s.Secret
	h.mu.Unlock()
	return s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func metricValue(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	t.Fatalf("metric %s not in /metrics:\n%s", name, b)
	return 0
}

const webhookAPIKey = "webhook-e2e-operator-key-0123456789"

func TestSubscribeDeliverUnsubscribeEndToEnd(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	srv := testenv.StartServer(t, testenv.ServerOptions{Args: []string{"--allow-private-webhooks"}, Env: []string{"TRIGGERS_API_KEY=" + webhookAPIKey}})
	c := &client{t: t, base: srv.URL}
	c.login(webhookAPIKey)
	h := newHookReceiver(t)
	sub := c.subscribe(h, "/orders", "order.*")
	c.subscribe(h, "/marker", "marker")

	status, _, body := c.do("GET", "/subscriptions/"+sub.ID, "", nil)
	if status != http.StatusOK || strings.Contains(string(body), sub.Secret) || strings.Contains(string(body), `"secret"`) {
		t.Errorf("GET /subscriptions/{id}: got %d %s, want 200 without the secret", status, body)
	}
	status, _, body = c.do("GET", "/subscriptions", "", nil)
	if status != http.StatusOK || !strings.Contains(string(body), sub.ID) || strings.Contains(string(body), sub.Secret) {
		t.Errorf("GET /subscriptions: got %d %s", status, body)
	}

	var want []string
	for i := range 3 {
		want = append(want, c.send("order.created", fmt.Sprintf(`{"n":%d}`, i)))
	}
	other := c.send("user.created", `{}`)
	waitFor(t, "three order deliveries", func() bool { a, _, _ := h.snapshot(); return len(a) == 3 })
	accepted, _, bad := h.snapshot()
	if len(bad) != 0 {
		t.Errorf("bad signatures: %v", bad)
	}
	var gotIDs []string
	for id, n := range accepted {
		var b struct{ ID, Type string }
		_ = json.Unmarshal(h.bodies[id], &b)
		gotIDs = append(gotIDs, b.ID)
		if n != 1 || b.Type != "order.created" || b.ID == other {
			t.Errorf("delivery %s: %d times, body %s", id, n, h.bodies[id])
		}
	}
	slices.Sort(gotIDs)
	slices.Sort(want)
	if !slices.Equal(gotIDs, want) {
		t.Errorf("delivered events %v, want %v", gotIDs, want)
	}

	var attempts []struct {
		EventID    string  `json:"event_id"`
		Outcome    string  `json:"outcome"`
		StatusCode int     `json:"status_code"`
		LatencyMS  float64 `json:"latency_ms"`
	}
	// The receiver counts a delivery before its answer reaches the
	// server, which records the attempt after: wait for the records.
	waitFor(t, "three attempts listed", func() bool {
		status, _, body = c.do("GET", "/subscriptions/"+sub.ID+"/deliveries", "", nil)
		if status != http.StatusOK {
			t.Fatalf("deliveries: got %d %s", status, body)
		}
		mustJSON(t, body, &attempts)
		return len(attempts) == 3
	})
	for _, a := range attempts {
		if a.Outcome != "success" || a.StatusCode != 200 {
			t.Errorf("attempt %+v, want success 200", a)
		}
	}
	waitFor(t, "three successes counted", func() bool { return metricValue(t, srv.URL, "triggers_webhook_successes_total") == 3 })
	if got := metricValue(t, srv.URL, "triggers_events_ingested_total"); got != 4 {
		t.Errorf("events ingested: got %v, want 4", got)
	}

	// Unsubscribe, as Zapier's performUnsubscribe does; twice is a 404.
	if status, _, body := c.do("DELETE", "/subscriptions/"+sub.ID, "", nil); status != http.StatusNoContent {
		t.Fatalf("DELETE: got %d %s, want 204", status, body)
	}
	if status, _, _ := c.do("DELETE", "/subscriptions/"+sub.ID, "", nil); status != http.StatusNotFound {
		t.Errorf("second DELETE: got %d, want 404", status)
	}
	if status, _, _ := c.do("GET", "/subscriptions/"+sub.ID, "", nil); status != http.StatusNotFound {
		t.Errorf("GET after DELETE: got %d, want 404", status)
	}
	c.send("order.created", `{}`)
	c.send("marker", `{}`)
	waitFor(t, "the marker delivery", func() bool { a, _, _ := h.snapshot(); return len(a) == 4 })
	if a, _, _ := h.snapshot(); len(a) != 4 {
		t.Errorf("got %d deliveries, want the 3 earlier ones and the marker only", len(a))
	}
}

func TestSubscriptionBadInput(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	// Without the opt-in, the SSRF guard refuses loopback targets.
	srv := testenv.StartServer(t, testenv.ServerOptions{Env: []string{"TRIGGERS_API_KEY=" + webhookAPIKey}})
	c := &client{t: t, base: srv.URL}
	c.login(webhookAPIKey)
	for _, target := range []string{"http://127.0.0.1:9/hook", "http://169.254.169.254/latest/meta-data", "ftp://example.com/x", "http://[::1]/", "not a url"} {
		body, _ := json.Marshal(map[string]any{"target_url": target})
		status, _, resp := c.do("POST", "/subscriptions", "application/json", body)
		if status != http.StatusUnprocessableEntity {
			t.Errorf("target %q: got %d %s, want 422", target, status, resp)
		}
	}
	for _, path := range []string{"/subscriptions/0190a000-0000-7000-8000-000000000000", "/subscriptions/nope", "/subscriptions/0190a000-0000-7000-8000-000000000000/deliveries"} {
		if status, _, resp := c.do("GET", path, "", nil); status != http.StatusNotFound {
			t.Errorf("GET %s: got %d %s, want 404", path, status, resp)
		}
	}
}

// TestPendingDeliveriesSurviveKill kills the server with SIGKILL while
// deliveries are in flight, queued in the schedule, and perhaps not yet
// claimed; after a restart on the same data every delivery arrives, and
// no webhook-id is accepted twice.
func TestPendingDeliveriesSurviveKill(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	dataDir := t.TempDir()
	opts := testenv.ServerOptions{DataDir: dataDir, Args: []string{"--allow-private-webhooks"}, Env: []string{"TRIGGERS_API_KEY=" + webhookAPIKey}}
	srv := testenv.StartServer(t, opts)
	c := &client{t: t, base: srv.URL}
	c.login(webhookAPIKey)
	h := newHookReceiver(t)
	c.subscribe(h, "/a")
	c.subscribe(h, "/b")
	h.setHeld(true)

	const events = 15
	for i := range events {
		c.send("crash.test", fmt.Sprintf(`{"i":%d}`, i))
	}
	waitFor(t, "attempts in flight at the receiver", func() bool { _, holding, _ := h.snapshot(); return holding >= 4 })
	srv.Kill()
	if a, _, _ := h.snapshot(); len(a) != 0 {
		t.Fatalf("accepted %d before the kill, want 0 (all held)", len(a))
	}

	h.setHeld(false)
	srv = testenv.StartServer(t, opts)
	waitFor(t, "every delivery after the restart", func() bool { a, _, _ := h.snapshot(); return len(a) == 2*events })
	// One more round through the loop, so a duplicate would have arrived.
	c = &client{t: t, base: srv.URL}
	c.login(webhookAPIKey)
	c.send("marker", `{}`)
	waitFor(t, "the marker", func() bool { a, _, _ := h.snapshot(); return len(a) == 2*events+2 })
	accepted, _, bad := h.snapshot()
	for id, n := range accepted {
		if n != 1 {
			t.Errorf("webhook-id %s accepted %d times, want 1", id, n)
		}
	}
	if len(bad) != 0 {
		t.Errorf("bad signatures: %v", bad)
	}
}

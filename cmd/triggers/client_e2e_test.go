package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/triggershq/triggers/internal/testenv"
	sdk "github.com/triggershq/triggers/pkg/client"
	"github.com/triggershq/triggers/pkg/webhook"
)

// The client commands, end to end: the real binary serves, and the same
// binary runs as the CLI against it, in a separate process each time.

// cliResult is what one CLI run printed and how it exited.
type cliResult struct {
	stdout, stderr string
	code           int
}

// cliEnv runs client commands against one server.
type cliEnv struct {
	t   *testing.T
	srv *testenv.Server
	sdk *sdk.Client
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	testenv.Integration(t)
	srv := testenv.StartServer(t, testenv.ServerOptions{})
	c, err := sdk.New(srv.URL, srv.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	return &cliEnv{t: t, srv: srv, sdk: c}
}

// environ is the CLI's environment: the server's URL and key in the
// variables the commands read.
func (c *cliEnv) environ() []string {
	return append(os.Environ(), "TRIGGERS_URL="+c.srv.URL, "TRIGGERS_API_KEY="+c.srv.APIKey)
}

// run runs the CLI to completion with stdin and checks its exit code.
func (c *cliEnv) run(wantCode int, stdin string, args ...string) cliResult {
	c.t.Helper()
	return runTriggersCLI(c.t, c.environ(), wantCode, stdin, args...)
}

func runTriggersCLI(t *testing.T, environ []string, wantCode int, stdin string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(testenv.TriggersBinary(t), args...)
	cmd.Env = environ
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("triggers %q: %v", args, err)
		}
		r.code = ee.ExitCode()
	}
	if r.code != wantCode {
		t.Fatalf("triggers %q: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", args, r.code, wantCode, r.stdout, r.stderr)
	}
	return r
}

var idLine = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$`)

// sent checks that a send printed one id and nothing else, and returns it.
func sent(t *testing.T, r cliResult) string {
	t.Helper()
	if !idLine.MatchString(r.stdout) {
		t.Fatalf("send: stdout %q is not one event id", r.stdout)
	}
	return strings.TrimSpace(r.stdout)
}

// payloadOf reads an event's stored payload through the SDK.
func (c *cliEnv) payloadOf(id string) (sdk.Event, string) {
	c.t.Helper()
	ev, err := c.sdk.Get(c.t.Context(), id)
	if err != nil {
		c.t.Fatalf("get %s: %v", id, err)
	}
	raw, err := ev.RawPayload()
	if err != nil {
		c.t.Fatal(err)
	}
	return ev, string(raw)
}

func TestCLISend(t *testing.T) {
	t.Parallel()
	c := newCLIEnv(t)
	exact := `{"n":1.0000000000000000000001,"s":"<&>\u00e9","big":123456789012345678901234567890}`

	file := filepath.Join(t.TempDir(), "payload.json")
	if err := os.WriteFile(file, []byte("  "+exact+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"from --data", "", []string{"--data", exact}, exact},
		{"from --file", "", []string{"--file", file}, exact},
		{"from stdin with -", exact + "\n", []string{"-"}, exact},
		{"from stdin with --file -", exact, []string{"--file", "-"}, exact},
		{"without a payload", "", nil, `{}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"send", "--type", "cli.send", "--source", "e2e"}, tc.args...)
			id := sent(t, c.run(0, tc.stdin, args...))
			ev, payload := c.payloadOf(id)
			if payload != tc.want {
				t.Errorf("payload: got %s, want %s", payload, tc.want)
			}
			if ev.Type != "cli.send" || ev.Source != "e2e" || ev.Status != "pending" {
				t.Errorf("event: got %+v", ev)
			}
		})
	}

	t.Run("--json and --idempotency-key", func(t *testing.T) {
		var first, second struct {
			ID, Status     string
			Replayed       bool
			IdempotencyKey string `json:"idempotency_key"`
		}
		args := []string{"send", "--type", "cli.send", "--source", "e2e", "--json", "--idempotency-key", "order-1042", "--data", `{"order":1042}`}
		mustJSON(t, []byte(c.run(0, "", args...).stdout), &first)
		mustJSON(t, []byte(c.run(0, "", args...).stdout), &second)
		if first.ID == "" || first.Status != "pending" || first.Replayed || first.IdempotencyKey != "order-1042" {
			t.Errorf("first send: got %+v", first)
		}
		if second.ID != first.ID || !second.Replayed {
			t.Errorf("second send with the same key: got %+v, want a replay of %s", second, first.ID)
		}
		r := c.run(1, "", "send", "--type", "cli.send", "--source", "e2e", "--idempotency-key", "order-1042", "--data", `{"order":9}`)
		if !strings.Contains(r.stderr, "idempotency_conflict") {
			t.Errorf("same key, other payload: stderr %q does not name the conflict", r.stderr)
		}
	})

	t.Run("flags instead of the environment", func(t *testing.T) {
		environ := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		r := runTriggersCLI(t, environ, 0, "", "send", "--url", c.srv.URL, "--api-key", c.srv.APIKey, "--type", "cli.flags", "--source", "e2e")
		sent(t, r)
	})

	t.Run("refused by the server", func(t *testing.T) {
		r := c.run(1, "", "send", "--type", "cli.send", "--source", "e2e", "--data", `[1,2]`)
		if r.stdout != "" || !strings.Contains(r.stderr, "422") || !strings.Contains(r.stderr, "payload") {
			t.Errorf("array payload: got stdout %q stderr %q, want a 422 about the payload on stderr only", r.stdout, r.stderr)
		}
		r = runTriggersCLI(t, append(c.environ(), "TRIGGERS_API_KEY=trg_000000000000_wrongwrongwrongwrongwrong"), 1, "", "send", "--type", "a", "--source", "b")
		if !strings.Contains(r.stderr, "401") || strings.Contains(r.stderr, "wrongwrong") {
			t.Errorf("wrong key: stderr %q, want a 401 that does not repeat the key", r.stderr)
		}
	})
}

func TestCLIInboxAndAck(t *testing.T) {
	t.Parallel()
	c := newCLIEnv(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, sent(t, c.run(0, "", "send", "--type", "cli.inbox", "--source", "e2e", "--data", fmt.Sprintf(`{"i":%d}`, i))))
	}
	other := sent(t, c.run(0, "", "send", "--type", "cli.other", "--source", "e2e"))

	t.Run("table", func(t *testing.T) {
		r := c.run(0, "", "inbox", "--type", "cli.inbox")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 6 || strings.Join(strings.Fields(lines[0]), " ") != "ID TYPE SOURCE CREATED_AT" {
			t.Fatalf("table: got\n%s\nwant a header and 5 rows", r.stdout)
		}
		for i, line := range lines[1:] {
			f := strings.Fields(line)
			want := ids[len(ids)-1-i] // newest first
			if len(f) != 4 || f[0] != want || f[1] != "cli.inbox" || f[2] != "e2e" {
				t.Errorf("row %d: got %q, want %s cli.inbox e2e CREATED_AT", i, line, want)
			}
			if _, err := time.Parse(time.RFC3339, f[3]); err != nil {
				t.Errorf("row %d: created_at %q: %v", i, f[3], err)
			}
		}
		if r.stderr != "" {
			t.Errorf("stderr is not a terminal, yet got %q", r.stderr)
		}
	})

	t.Run("json lines, every page", func(t *testing.T) {
		r := c.run(0, "", "inbox", "--all", "--limit", "2", "--json")
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			var ev struct {
				ID      string
				Type    string
				Payload json.RawMessage
			}
			mustJSON(t, []byte(line), &ev)
			got = append(got, ev.ID)
			if i := slices.Index(ids, ev.ID); i >= 0 && string(ev.Payload) != fmt.Sprintf(`{"i":%d}`, i) {
				t.Errorf("event %s payload: got %s", ev.ID, ev.Payload)
			}
		}
		want := append([]string{other}, reversed(ids)...)
		if !slices.Equal(got, want) {
			t.Errorf("inbox --all: got %v, want %v", got, want)
		}
		if r.stderr != "" {
			t.Errorf("progress went to a non-terminal stderr: %q", r.stderr)
		}
	})

	t.Run("ack", func(t *testing.T) {
		r := c.run(0, "", "ack", ids[0], ids[1])
		if got := strings.Fields(r.stdout); !slices.Equal(got, ids[:2]) {
			t.Errorf("ack stdout: got %v, want %v", got, ids[:2])
		}
		r = c.run(0, ids[2]+"\n\n"+ids[3]+"\n", "ack", "-", "--json")
		if n := strings.Count(r.stdout, `"status":"delivered"`); n != 2 {
			t.Errorf("ack - --json: got %q, want 2 delivered events", r.stdout)
		}
		const unknown = "0190b6c4-0000-7000-8000-000000000000"
		r = c.run(1, "", "ack", unknown, ids[4], "not-an-id")
		if strings.TrimSpace(r.stdout) != ids[4] {
			t.Errorf("partly failing ack: stdout %q, want just %s", r.stdout, ids[4])
		}
		for _, bad := range []string{unknown, "not-an-id"} {
			if !strings.Contains(r.stderr, bad) {
				t.Errorf("partly failing ack: stderr %q does not name %s", r.stderr, bad)
			}
		}
		if !strings.Contains(r.stderr, "2 of 3 failed") {
			t.Errorf("partly failing ack: stderr %q lacks the summary", r.stderr)
		}
		rest := c.run(0, "", "inbox", "--json")
		if strings.TrimSpace(rest.stdout) == "" || strings.Count(strings.TrimSpace(rest.stdout), "\n") != 0 || !strings.Contains(rest.stdout, other) {
			t.Errorf("inbox after acking every cli.inbox event: got %q, want only %s", rest.stdout, other)
		}
	})
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

func TestCLIUsageErrors(t *testing.T) {
	t.Parallel()
	c := newCLIEnv(t)
	file := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(file, []byte(`{"a":`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		env  []string
	}{
		{"send without --type", []string{"send", "--source", "s"}, nil},
		{"send without --source", []string{"send", "--type", "t"}, nil},
		{"send with bad JSON", []string{"send", "--type", "t", "--source", "s", "--data", `{"a":`}, nil},
		{"send with a bad file", []string{"send", "--type", "t", "--source", "s", "--file", file}, nil},
		{"send with a missing file", []string{"send", "--type", "t", "--source", "s", "--file", file + ".nope"}, nil},
		{"send with two payloads", []string{"send", "--type", "t", "--source", "s", "--data", "{}", "-"}, nil},
		{"send with an argument", []string{"send", "--type", "t", "--source", "s", "extra"}, nil},
		{"unknown flag", []string{"inbox", "--frobnicate"}, nil},
		{"limit 0", []string{"inbox", "--limit", "0"}, nil},
		{"limit 101", []string{"inbox", "--limit", "101"}, nil},
		{"ack without ids", []string{"ack"}, nil},
		{"ack - with empty stdin", []string{"ack", "-"}, nil},
		{"tail with a tiny interval", []string{"tail", "--interval", "1ms"}, nil},
		{"listen without --forward-to", []string{"listen"}, nil},
		{"listen to a non-URL", []string{"listen", "--forward-to", "localhost:3000"}, nil},
		{"listen with a bad secret", []string{"listen", "--forward-to", "http://127.0.0.1:1/", "--secret", "whsec_short"}, nil},
		{"no API key", []string{"inbox"}, []string{"TRIGGERS_API_KEY="}},
		{"bad --url", []string{"inbox", "--url", "ftp://x"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runTriggersCLI(t, append(c.environ(), tc.env...), 2, "", tc.args...)
			if r.stdout != "" || !strings.HasPrefix(r.stderr, "triggers: ") && !strings.Contains(r.stderr, "flag provided but not defined") {
				t.Errorf("stdout %q, stderr %q: want the reason on stderr only", r.stdout, r.stderr)
			}
		})
	}
	for _, cmd := range []string{"send", "inbox", "ack", "tail", "listen"} {
		r := c.run(0, "", cmd, "-h")
		if !strings.Contains(r.stderr, "Exit codes") || !strings.Contains(r.stderr, "--url") {
			t.Errorf("%s -h: help lacks the exit codes or connection flags:\n%s", cmd, r.stderr)
		}
	}
	// Nothing listens on a port that was just free: a network failure is 1.
	dead := fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
	r := runTriggersCLI(t, c.environ(), 1, "", "inbox", "--url", dead)
	if !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("unreachable server: stderr %q, want the network error", r.stderr)
	}
	r = runTriggersCLI(t, c.environ(), 1, "", "send", "--url", dead, "--type", "t", "--source", "s")
	if !regexp.MustCompile(`--idempotency-key [0-9a-f-]{36}`).MatchString(r.stderr) {
		t.Errorf("failed send: stderr %q does not say which key repeats it safely", r.stderr)
	}
}

// proc is a CLI process that keeps running (tail, listen).
type proc struct {
	cmd    *exec.Cmd
	stdout chan string // lines
	stderr chan string
	done   chan struct{}
	mu     sync.Mutex
	errBuf strings.Builder
}

func (c *cliEnv) start(args ...string) *proc {
	c.t.Helper()
	cmd := exec.Command(testenv.TriggersBinary(c.t), args...)
	cmd.Env = c.environ()
	p := &proc{cmd: cmd, stdout: make(chan string, 100), stderr: make(chan string, 100), done: make(chan struct{})}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	var wg sync.WaitGroup
	lines := func(r io.Reader, ch chan string, keep bool) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if keep {
				p.mu.Lock()
				p.errBuf.WriteString(sc.Text() + "\n")
				p.mu.Unlock()
			}
			ch <- sc.Text()
		}
		close(ch)
	}
	wg.Add(2)
	go lines(outPipe, p.stdout, false)
	go lines(errPipe, p.stderr, true)
	go func() { wg.Wait(); _ = cmd.Wait(); close(p.done) }()
	c.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// line waits for the next line on ch.
func (p *proc) line(t *testing.T, ch chan string, what string) string {
	t.Helper()
	select {
	case l, ok := <-ch:
		if !ok {
			t.Fatalf("%s: the process ended; stderr:\n%s", what, p.stderrText())
		}
		return l
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: nothing within 60s; stderr:\n%s", what, p.stderrText())
	}
	return ""
}

func (p *proc) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errBuf.String()
}

// interrupt sends Ctrl-C and returns the exit code.
func (p *proc) interrupt(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the process did not stop within 30s of SIGINT")
	}
	return p.cmd.ProcessState.ExitCode()
}

// inboxPolls counts the server's GET /inbox access log lines.
func (c *cliEnv) inboxPolls() int {
	return strings.Count(c.srv.Stderr(), `"route":"GET /inbox"`)
}

// waitPolled waits until the server has answered a GET /inbox after before
// lines: the follower has taken its mark.
func (c *cliEnv) waitPolled(before int) {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for c.inboxPolls() <= before {
		if time.Now().After(deadline) {
			c.t.Fatal("no GET /inbox reached the server within 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitDelivered waits until an event is acknowledged.
func (c *cliEnv) waitDelivered(id string) {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ev, err := c.sdk.Get(c.t.Context(), id)
		if err == nil && ev.Status == sdk.StatusDelivered {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("event %s not acknowledged within 60s (status %q, %v)", id, ev.Status, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCLITail(t *testing.T) {
	t.Parallel()
	c := newCLIEnv(t)
	old := sent(t, c.run(0, "", "send", "--type", "cli.tail", "--source", "e2e"))

	before := c.inboxPolls()
	p := c.start("tail", "--type", "cli.tail", "--interval", "100ms", "--json", "--ack")
	c.waitPolled(before)

	var ids []string
	for i := range 3 {
		ids = append(ids, sent(t, c.run(0, "", "send", "--type", "cli.tail", "--source", "e2e", "--data", fmt.Sprintf(`{"i":%d}`, i))))
	}
	sent(t, c.run(0, "", "send", "--type", "cli.not-tailed", "--source", "e2e"))
	for i, id := range ids {
		var ev struct {
			ID, Type string
			Payload  json.RawMessage
		}
		mustJSON(t, []byte(p.line(t, p.stdout, "tail output")), &ev)
		if ev.ID != id || ev.Type != "cli.tail" || string(ev.Payload) != fmt.Sprintf(`{"i":%d}`, i) {
			t.Errorf("tail line %d: got %+v, want event %s oldest first", i, ev, id)
		}
	}
	for _, id := range ids {
		c.waitDelivered(id) // --ack
	}
	if code := p.interrupt(t); code != 0 {
		t.Errorf("tail after Ctrl-C: exit code %d, want 0; stderr:\n%s", code, p.stderrText())
	}
	for l := range p.stdout {
		t.Errorf("tail printed more: %s", l) // the old event or the other type
	}
	if ev, err := c.sdk.Get(t.Context(), old); err != nil || ev.Status != sdk.StatusPending {
		t.Errorf("the event sent before tail started: got %+v, %v; want it untouched and pending", ev, err)
	}
}

// TestCLIListen: listen forwards a new event to a local receiver as a
// Standard Webhook that verifies with the secret it printed, retries a 503,
// keeps the webhook-id across attempts, and acknowledges after the 2xx.
func TestCLIListen(t *testing.T) {
	t.Parallel()
	c := newCLIEnv(t)
	old := sent(t, c.run(0, "", "send", "--type", "cli.listen", "--source", "e2e"))

	type delivery struct {
		webhookID string
		header    http.Header
		body      []byte
		verifyErr error
	}
	var (
		mu         sync.Mutex
		secret     string
		deliveries []delivery
	)
	got := make(chan delivery, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		d := delivery{webhookID: r.Header.Get(webhook.HeaderID), header: r.Header.Clone(), body: body, verifyErr: webhook.Verify(secret, r.Header, body, 0)}
		deliveries = append(deliveries, d)
		first := len(deliveries) == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable) // the first attempt fails
			return
		}
		got <- d
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)

	p := c.start("listen", "--forward-to", receiver.URL+"/hooks", "--type", "cli.listen", "--interval", "100ms", "--ack")
	secretRE := regexp.MustCompile(`\b(whsec_[A-Za-z0-9+/=]+)`)
	for secret == "" {
		if m := secretRE.FindStringSubmatch(p.line(t, p.stderr, "listen's ready line")); m != nil {
			mu.Lock()
			secret = m[1]
			mu.Unlock()
		}
	}

	payload := `{"order_id":1042,"total":19.90,"note":"<b>"}`
	id := sent(t, c.run(0, "", "send", "--type", "cli.listen", "--source", "e2e", "--data", payload))
	var d delivery
	select {
	case d = <-got:
	case <-time.After(60 * time.Second):
		t.Fatalf("no delivery within 60s; listen stderr:\n%s", p.stderrText())
	}
	if d.verifyErr != nil {
		t.Fatalf("webhook.Verify with the printed secret: %v", d.verifyErr)
	}
	if ev, err := sdk.VerifyWebhook(secret, d.header, d.body); err != nil || ev.ID != id {
		t.Errorf("client.VerifyWebhook: got %+v, %v; want event %s", ev, err, id)
	}
	var body struct {
		ID, Type, Source string
		Payload          json.RawMessage
		CreatedAt        time.Time `json:"created_at"`
	}
	mustJSON(t, d.body, &body)
	if body.ID != id || body.Type != "cli.listen" || body.Source != "e2e" || string(body.Payload) != payload || body.CreatedAt.IsZero() {
		t.Errorf("webhook body: got %s", d.body)
	}
	mu.Lock()
	if len(deliveries) != 2 || deliveries[0].webhookID != d.webhookID || !strings.HasPrefix(d.webhookID, "msg_") {
		t.Errorf("attempts: got %d with webhook-ids %q and %q, want 2 sharing one msg_ id", len(deliveries), deliveries[0].webhookID, d.webhookID)
	}
	mu.Unlock()

	for _, want := range []string{`^--> cli\.listen ` + id + ` \[503 \d+ms\] retrying$`, `^--> cli\.listen ` + id + ` \[204 \d+ms\]$`} {
		if l := p.line(t, p.stdout, "forward log"); !regexp.MustCompile(want).MatchString(l) {
			t.Errorf("forward log: got %q, want %s", l, want)
		}
	}
	c.waitDelivered(id)
	if code := p.interrupt(t); code != 0 {
		t.Errorf("listen after Ctrl-C: exit code %d, want 0; stderr:\n%s", code, p.stderrText())
	}
	if ev, err := c.sdk.Get(t.Context(), old); err != nil || ev.Status != sdk.StatusPending {
		t.Errorf("the event sent before listen started: got %+v, %v; want it pending, not forwarded", ev, err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, d := range deliveries {
		if strings.Contains(string(d.body), old) {
			t.Errorf("the event sent before listen started was forwarded")
		}
	}
}

package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/format"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/triggershq/triggers/internal/testenv"
)

// The seed developer guide's own client code, run for real against the real
// binary: Python requests, Node axios and Go, copied from the guide into
// testdata/seedclients with nothing changed but their configuration
// (docs/compatibility.md). TestSeedClientsVerbatim proves the copies are the
// guide's code; TestSeedClients runs them.

// seedClientsDir holds the client programs and a snapshot of the guide.
func seedClientsDir(t *testing.T) string {
	t.Helper()
	return filepath.Join(testenv.RepoRoot(t), "testdata", "seedclients")
}

// seedEdit is one change made to the guide's code to run it.
type seedEdit struct{ old, new string }

// seedCopy is one program whose code between its markers is a code block
// of the guide with edits applied.
type seedCopy struct {
	file    string // in testdata/seedclients
	heading string // the guide line the block follows
	fence   string // the block's opening fence
	edits   []seedEdit
	gofmt   bool // the copy is gofmt's layout of the edited block
}

const guideURL = "https://your-api-url.lambda-url.us-east-2.on.aws"

// seedCopies is the whole list of changes docs/compatibility.md describes.
var seedCopies = []seedCopy{
	{file: "client.py", heading: "### Python (requests)", fence: "```python", edits: []seedEdit{
		{`api_url="` + guideURL + `"`, `api_url=os.environ["API_URL"]`},
		{`api_key="your-api-key"`, `api_key=os.environ["API_KEY"]`},
	}},
	{file: "client.js", heading: "### Node.js (axios)", fence: "```javascript", edits: []seedEdit{
		{`'` + guideURL + `'`, `process.env.API_URL`},
		{`'your-api-key'`, `process.env.API_KEY`},
	}},
	{file: "client.go", heading: "### Go", fence: "```go", gofmt: true, edits: []seedEdit{
		{"    \"io/ioutil\"\n", ""}, // unused: the printed code does not compile
		{"    \"net/url\"\n", "    \"net/url\"\n    \"os\"\n"},
		{`APIURL: "` + guideURL + `",`, `APIURL: os.Getenv("API_URL"),`},
		{`APIKey: "your-api-key",`, `APIKey: os.Getenv("API_KEY"),`},
	}},
	{file: "daily_report.py", heading: "**Implementation (Cron Job):**", fence: "```python", edits: []seedEdit{
		{`API_URL = "` + guideURL + `"`, `API_URL = os.environ["API_URL"]`},
		{`API_KEY = "your-api-key"`, `API_KEY = os.environ["API_KEY"]`},
	}},
	{file: "apiclient.py", heading: "**Handle Authentication Errors:**", fence: "```python"},
	{file: "retry_session.py", heading: "**Handle Transient Errors:**", fence: "```python"},
	{file: "polling.py", heading: "**Custom Polling (if building your own consumer):**", fence: "```python", edits: []seedEdit{
		{`API_URL = "` + guideURL + `"`, `API_URL = os.environ["API_URL"]`},
		{`TOKEN = "your-jwt-token"`, `TOKEN = os.environ["API_TOKEN"]`},
	}},
}

// guideBlock returns the first code block opened by fence after the line
// heading in the guide.
func guideBlock(guide, heading, fence string) (string, error) {
	lines := strings.Split(guide, "\n")
	for i, l := range lines {
		if l != heading {
			continue
		}
		for j := i + 1; j < len(lines); j++ {
			if lines[j] != fence {
				continue
			}
			var b strings.Builder
			for _, code := range lines[j+1:] {
				if strings.HasPrefix(code, "```") {
					return b.String(), nil
				}
				b.WriteString(code + "\n")
			}
			return "", fmt.Errorf("block after %q is not closed", heading)
		}
	}
	return "", fmt.Errorf("no %s block after %q", fence, heading)
}

// seedSection returns the lines of a program between its "seed code
// begins" and "seed code ends" marker lines (or the end of the file).
func seedSection(program string) (string, error) {
	lines := strings.SplitAfter(program, "\n")
	for i, l := range lines {
		if !strings.Contains(l, "---- seed code begins ----") {
			continue
		}
		var b strings.Builder
		for _, code := range lines[i+1:] {
			if strings.Contains(code, "---- seed code ends") {
				break
			}
			b.WriteString(code)
		}
		return b.String(), nil
	}
	return "", errors.New("no seed code begins marker")
}

// TestSeedClientsVerbatim: each program's seed section is the guide's code
// block with exactly the listed edits (each applying once), and nothing
// else. The guide is read from the snapshot in testdata/seedclients, and
// that snapshot's blocks are compared with the shared seed guide when it
// sits beside the repository.
func TestSeedClientsVerbatim(t *testing.T) {
	t.Parallel()
	dir := seedClientsDir(t)
	snapshot, err := os.ReadFile(filepath.Join(dir, "developer-guide.md"))
	if err != nil {
		t.Fatal(err)
	}
	shared, sharedErr := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "..", "shared", "seed", "developer-guide.md"))
	if sharedErr != nil {
		t.Logf("no shared seed guide beside the repository (%v): checking against the snapshot only", sharedErr)
	}
	for _, c := range seedCopies {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			block, err := guideBlock(string(snapshot), c.heading, c.fence)
			if err != nil {
				t.Fatal(err)
			}
			if sharedErr == nil {
				current, err := guideBlock(string(shared), c.heading, c.fence)
				if err != nil || current != block {
					t.Errorf("the seed guide's block under %q changed since the snapshot (%v): refresh testdata/seedclients/developer-guide.md and %s", c.heading, err, c.file)
				}
			}
			want := block
			for _, e := range c.edits {
				if n := strings.Count(want, e.old); n != 1 {
					t.Fatalf("edit %q applies %d times to the guide's block, want once", e.old, n)
				}
				want = strings.Replace(want, e.old, e.new, 1)
			}
			if c.gofmt {
				formatted, err := format.Source([]byte(want))
				if err != nil {
					t.Fatalf("the edited guide block does not parse: %v", err)
				}
				want = string(formatted)
			}
			program, err := os.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := seedSection(string(program))
			if err != nil {
				t.Fatalf("%s: %v", c.file, err)
			}
			if got != want {
				t.Errorf("%s's seed code is not the guide's block with the listed edits:\n%s", c.file, firstDifference(got, want))
			}
		})
	}
}

// firstDifference shows the first line where got and want differ.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d: got %q, want %q", i+1, gl, wl)
		}
	}
	return "(no line differs)"
}

// TestSeedClients runs each client program of the guide against its own
// `triggers serve` (their checks assume an inbox nobody else uses), and
// fails with the program's output when it exits non-zero. Afterwards the
// server's logs must hold no API key and no token.
func TestSeedClients(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	dir := seedClientsDir(t)

	t.Run("python", func(t *testing.T) {
		t.Parallel()
		py := needPythonRequests(t)
		s := startSeedServer(t)
		s.run(t, "", nil, py, filepath.Join(dir, "client.py"))
	})
	t.Run("python-cron-job", func(t *testing.T) {
		t.Parallel()
		py := needPythonRequests(t)
		s := startSeedServer(t)
		s.run(t, "", nil, py, filepath.Join(dir, "daily_report.py"))
	})
	t.Run("python-token-refresh", func(t *testing.T) {
		t.Parallel()
		py := needPythonRequests(t)
		s := startSeedServer(t)
		expired := s.expiredToken(t)
		s.run(t, "", []string{"EXPIRED_TOKEN=" + expired}, py, filepath.Join(dir, "apiclient.py"))
	})
	t.Run("python-retry-session", func(t *testing.T) {
		t.Parallel()
		py := needPythonRequests(t)
		s := startSeedServer(t)
		// As printed: urllib3 2 removed Retry's method_whitelist.
		out, err := s.output("", nil, py, filepath.Join(dir, "retry_session.py"))
		if urllib3Major(t, py) >= 2 {
			if err == nil || !strings.Contains(out, "unexpected keyword argument 'method_whitelist'") {
				t.Fatalf("retry_session.py as printed on urllib3 2: got %v, want its TypeError on method_whitelist\n%s", err, out)
			}
			t.Logf("as printed, the guide's retry session fails on urllib3 2 (method_whitelist was removed); running it with allowed_methods")
		} else if err != nil {
			t.Fatalf("retry_session.py as printed: %v\n%s", err, out)
		}
		// The one-word fix.
		src, err := os.ReadFile(filepath.Join(dir, "retry_session.py"))
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(src, []byte("method_whitelist=")); n != 1 {
			t.Fatalf("retry_session.py names method_whitelist= %d times, want once", n)
		}
		fixed := filepath.Join(t.TempDir(), "retry_session.py")
		if err := os.WriteFile(fixed, bytes.Replace(src, []byte("method_whitelist="), []byte("allowed_methods="), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		s.run(t, "", nil, py, fixed)
	})
	t.Run("python-polling", func(t *testing.T) {
		t.Parallel()
		py := needPythonRequests(t)
		s := startSeedServer(t)
		token := s.token(t)
		s.run(t, "", []string{"API_TOKEN=" + token}, py, filepath.Join(dir, "polling.py"))
	})
	t.Run("node-axios", func(t *testing.T) {
		t.Parallel()
		node := needNodeModules(t, dir)
		s := startSeedServer(t)
		// node resolves axios from testdata/seedclients/node_modules.
		s.run(t, dir, nil, node, "client.js")
	})
	t.Run("go", func(t *testing.T) {
		t.Parallel()
		goTool, err := exec.LookPath("go")
		if err != nil {
			testenv.Unavailable(t, "go not on PATH: %v", err)
		}
		// Its own module outside the repository, standard library only.
		mod := t.TempDir()
		for _, f := range []string{"client.go", "client_check.go"} {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(mod, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module seedclient\n\ngo 1.22\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		s := startSeedServer(t)
		s.run(t, mod, []string{"GOWORK=off", "GOFLAGS="}, goTool, "run", ".")
	})
}

// seedServer is a fresh `triggers serve` for one client program, and the
// tokens the test itself handed out (which the logs must not hold either).
type seedServer struct {
	srv     *testenv.Server
	secrets []string
}

func startSeedServer(t *testing.T) *seedServer {
	t.Helper()
	srv := testenv.StartServer(t, testenv.ServerOptions{})
	if srv.APIKey == "" {
		t.Fatalf("first start printed no API key; stdout:\n%s", srv.Stdout())
	}
	s := &seedServer{srv: srv, secrets: []string{srv.APIKey}}
	if parts := strings.SplitN(srv.APIKey, "_", 3); len(parts) == 3 {
		s.secrets = append(s.secrets, parts[2]) // the key's secret part alone
	}
	return s
}

// output runs argv in dir (if not "") with the server's URL and key in
// API_URL and API_KEY, and env, and returns what it printed.
func (s *seedServer) output(dir string, env []string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := exec.CommandContext(ctx, argv[0], argv[1:]...)
	run.Dir = dir
	run.Env = append(os.Environ(),
		"API_URL="+s.srv.URL, "API_KEY="+s.srv.APIKey,
		// requests and axios both honour proxy variables; loopback is direct.
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
	run.Env = append(run.Env, env...)
	out, err := run.CombinedOutput()
	return string(out), err
}

// run runs argv (see output) to success and checks that its checks ran,
// then stops the server and checks its logs for secrets.
func (s *seedServer) run(t *testing.T, dir string, env []string, argv ...string) {
	t.Helper()
	name := strings.Join(argv, " ")
	out, err := s.output(dir, env, argv...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	if !strings.Contains(out, "seed client checks passed") {
		t.Fatalf("%s exited 0 without running its checks:\n%s", name, out)
	}
	t.Logf("%s:\n%s", name, out)

	if code := s.srv.Stop(30 * time.Second); code != 0 {
		t.Errorf("SIGTERM exit code: got %d, want 0\nstderr:\n%s", code, s.srv.Stderr())
	}
	logs := s.srv.Stderr()
	if !strings.Contains(logs, `"route":"POST /events"`) {
		t.Errorf("logs lack the access log line for POST /events: the check below would prove nothing\n%s", logs)
	}
	// "eyJ" starts every JWT ({"alg"... in base64url): the clients' own
	// tokens, which this test never sees, included.
	for _, secret := range append([]string{"Bearer ", "eyJ"}, s.secrets...) {
		if strings.Contains(logs, secret) {
			t.Errorf("the server's logs contain a secret (%.8s...)", secret)
		}
	}
}

// token exchanges the server's key for a bearer token the way the seed does.
func (s *seedServer) token(t *testing.T) string {
	t.Helper()
	resp, err := http.PostForm(s.srv.URL+"/token", url.Values{"username": {"api"}, "password": {s.srv.APIKey}})
	if err != nil {
		t.Fatalf("POST /token: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("POST /token: got %d %s", resp.StatusCode, body)
	}
	s.secrets = append(s.secrets, tok.AccessToken)
	return tok.AccessToken
}

// expiredToken returns a token of this server past its expiry: a real one,
// re-signed with the server's own signing key (from credentials.json) with
// its times moved a day back. The server must answer it 401, which is what
// the seed's APIClient refreshes on.
func (s *seedServer) expiredToken(t *testing.T) string {
	t.Helper()
	real := s.token(t)
	claims := jwt.MapClaims{}
	parsed, _, err := jwt.NewParser().ParseUnverified(real, claims)
	if err != nil {
		t.Fatalf("parse the server's token: %v", err)
	}
	kid, _ := parsed.Header["kid"].(string)
	raw, err := os.ReadFile(filepath.Join(s.srv.DataDir, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var creds map[string]any
	if err := json.Unmarshal(raw, &creds); err != nil {
		t.Fatal(err)
	}
	key, ok := creds["jwt_key_"+kid].(string)
	if !ok || key == "" {
		t.Fatalf("credentials.json has no signing key for the token's kid %q", kid)
	}
	now := time.Now()
	claims["iat"], claims["nbf"] = now.Add(-26*time.Hour).Unix(), now.Add(-26*time.Hour).Unix()
	claims["exp"] = now.Add(-2 * time.Hour).Unix()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header = parsed.Header
	expired, err := tok.SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	s.secrets = append(s.secrets, expired)

	// The premise: the server takes the real token and refuses the re-signed
	// one only for its expiry.
	for _, c := range []struct {
		name, token string
		want        int
	}{{"the real token", real, http.StatusOK}, {"the expired token", expired, http.StatusUnauthorized}} {
		req, _ := http.NewRequest("GET", s.srv.URL+"/inbox", nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want || (c.want == http.StatusUnauthorized && !strings.Contains(string(body), "expired")) {
			t.Fatalf("GET /inbox with %s: got %d %s, want %d", c.name, resp.StatusCode, body, c.want)
		}
	}
	return expired
}

// needPythonRequests returns python3's path if it can import requests.
func needPythonRequests(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		testenv.Unavailable(t, "python3 not on PATH: %v", err)
	}
	if out, err := exec.Command(py, "-c", "import requests").CombinedOutput(); err != nil {
		testenv.Unavailable(t, "python3 cannot import requests: %v\n%s", err, out)
	}
	return py
}

// urllib3Major is the major version of the urllib3 that requests uses.
func urllib3Major(t *testing.T, py string) int {
	t.Helper()
	out, err := exec.Command(py, "-c", "import urllib3; print(urllib3.__version__.split('.')[0])").Output()
	if err != nil {
		t.Fatalf("urllib3 version: %v", err)
	}
	var major int
	if _, err := fmt.Sscan(string(out), &major); err != nil {
		t.Fatalf("urllib3 version %q: %v", out, err)
	}
	return major
}

var (
	npmOnce sync.Once
	npmErr  error
)

// needNodeModules returns node's path once testdata/seedclients has the
// axios its package-lock.json pins, running `npm ci` there when it does not.
func needNodeModules(t *testing.T, dir string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, "node not on PATH: %v", err)
	}
	npmOnce.Do(func() {
		if axiosInstalled(dir) {
			return
		}
		npm, err := exec.LookPath("npm")
		if err != nil {
			npmErr = fmt.Errorf("npm not on PATH: %w", err)
			return
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			npmErr = fmt.Errorf("npm ci in %s: %v\n%s", dir, err, out)
		}
	})
	if npmErr != nil {
		testenv.Unavailable(t, "%v", npmErr)
	}
	return node
}

// axiosInstalled reports whether node_modules holds the axios version the
// lock file pins.
func axiosInstalled(dir string) bool {
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	var installed struct{ Version string }
	b, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil || json.Unmarshal(b, &lock) != nil {
		return false
	}
	b, err = os.ReadFile(filepath.Join(dir, "node_modules", "axios", "package.json"))
	if err != nil || json.Unmarshal(b, &installed) != nil {
		return false
	}
	want := lock.Packages["node_modules/axios"].Version
	return want != "" && installed.Version == want
}

package openapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/triggershq/triggers/internal/testenv"
	"github.com/triggershq/triggers/pkg/routes"
)

// TestDocsPageInChromium loads /docs from the real server (`triggers
// serve`) in headless Chromium with every non-loopback host unresolvable
// and every proxied request refused, waits for the page's script to render,
// and checks the rendered DOM: it is ready, its style sheet and script were
// allowed by the Content-Security-Policy with no violation, and it shows
// every route of routes.Table. Chromium's network log proves the page
// itself asked for nothing but /docs and /openapi.json from the server.
func TestDocsPageInChromium(t *testing.T) {
	testenv.Integration(t)
	browser := findChromium()
	if browser == "" {
		testenv.Unavailable(t, "chromium is not installed (apt-get update && apt-get install -y chromium)")
	}
	srv := testenv.StartServer(t, testenv.ServerOptions{})

	t.Run("every route", func(t *testing.T) {
		page := loadInChromium(t, browser, srv.URL, "/docs")
		if got, want := page.body["data-operations"], strconv.Itoa(len(routes.Table)); got != want {
			t.Errorf("data-operations: got %q, want %s (one per route)", got, want)
		}
		for _, rt := range routes.Table {
			op, ok := page.ops[rt.Pattern()]
			switch {
			case !ok:
				t.Errorf("%s: not rendered", rt.Pattern())
			case op.hidden:
				t.Errorf("%s: rendered hidden", rt.Pattern())
			case !strings.Contains(op.html, ">"+rt.Method+"</span>") || !strings.Contains(op.html, ">"+html.EscapeString(rt.Path)+"</span>"):
				t.Errorf("%s: the section does not show its method and path", rt.Pattern())
			case rt.Summary != "" && !strings.Contains(op.html, html.EscapeString(rt.Summary)):
				t.Errorf("%s: the section does not show the summary %q", rt.Pattern(), rt.Summary)
			}
		}
		if len(page.ops) != len(routes.Table) {
			t.Errorf("rendered %d operations, want %d", len(page.ops), len(routes.Table))
		}
	})

	t.Run("search", func(t *testing.T) {
		page := loadInChromium(t, browser, srv.URL, "/docs?q=getHealth")
		var shown []string
		for pattern, op := range page.ops {
			if !op.hidden {
				shown = append(shown, pattern)
			}
		}
		if !slices.Equal(shown, []string{"GET /health"}) {
			t.Errorf("searching getHealth: got %v shown, want only GET /health", shown)
		}
	})
}

// findChromium returns Debian's chromium binary, or "" if it is absent.
func findChromium() string {
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// renderedPage is what the test reads from Chromium's DOM dump.
type renderedPage struct {
	body map[string]string     // attributes of <body>
	ops  map[string]renderedOp // by route pattern
	dom  string                // the whole dump, for failure messages
	reqs []pageRequest         // what the page asked the network for
}

type renderedOp struct {
	hidden bool
	html   string // the section's markup up to the next operation
}

var (
	bodyRE    = regexp.MustCompile(`<body([^>]*)>`)
	sectionRE = regexp.MustCompile(`<section ([^>]*data-method="[^"]*"[^>]*)>`)
	attrRE    = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
)

func attrs(s string) map[string]string {
	out := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(s, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// loadInChromium renders serverURL+path with no network but loopback and
// checks what every load must satisfy.
func loadInChromium(t *testing.T, browser, serverURL, path string) renderedPage {
	t.Helper()
	dir := t.TempDir()
	netlog := filepath.Join(dir, "netlog.json")
	closedPort := testenv.FreePort(t) // nothing listens there: the proxy refuses
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--no-first-run",
		"--disable-sync", "--disable-extensions", "--disable-default-apps", "--no-default-browser-check",
		"--disable-features=AutofillServerCommunication,OptimizationHints,Translate,MediaRouter",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		// No network but loopback: every other host fails to resolve, and
		// whatever is not loopback goes to a proxy that refuses.
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		fmt.Sprintf("--proxy-server=http://127.0.0.1:%d", closedPort),
		"--log-net-log="+netlog,
		// Run the page's script until it is idle (virtual time waits for
		// the fetch of openapi.json), then print the DOM.
		"--virtual-time-budget=15000",
		"--dump-dom", serverURL+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\nstderr (tail): %s", err, tail(stderr.String(), 3000))
	}
	page := renderedPage{dom: string(out), ops: map[string]renderedOp{}}
	m := bodyRE.FindStringSubmatch(page.dom)
	if m == nil {
		t.Fatalf("no <body> in the DOM dump:\n%s", tail(page.dom, 2000))
	}
	page.body = attrs(m[1])
	if page.body["data-state"] != "ready" {
		t.Fatalf("page state: got %q, want ready; status: %s", page.body["data-state"], statusText(page.dom))
	}
	if page.body["data-style"] != "applied" {
		t.Errorf("style sheet: got %q, want applied (blocked by the policy?)", page.body["data-style"])
	}
	if v := page.body["data-csp-violations"]; v != "" {
		t.Errorf("the Content-Security-Policy blocked %s thing(s); status: %s", v, statusText(page.dom))
	}
	locs := sectionRE.FindAllStringSubmatchIndex(page.dom, -1)
	for i, loc := range locs {
		a := attrs(page.dom[loc[2]:loc[3]])
		end := len(page.dom)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		pattern := a["data-method"] + " " + a["data-path"]
		if _, dup := page.ops[pattern]; dup {
			t.Errorf("%s rendered twice", pattern)
		}
		page.ops[pattern] = renderedOp{hidden: slices.Contains(strings.Fields(a["class"]), "hidden"), html: page.dom[loc[0]:end]}
	}

	page.reqs = pageRequests(t, netlog, serverURL)
	var fetched []string
	for _, r := range page.reqs {
		u, err := url.Parse(r.url)
		if err != nil || u.Scheme+"://"+u.Host != serverURL {
			t.Errorf("the page requested %s (initiator %s): only %s may be contacted", r.url, r.initiator, serverURL)
			continue
		}
		fetched = append(fetched, u.Path)
	}
	slices.Sort(fetched)
	fetched = slices.Compact(fetched)
	if !slices.Equal(fetched, []string{"/docs", "/openapi.json"}) {
		t.Errorf("the page requested %v, want exactly /docs and /openapi.json", fetched)
	}
	return page
}

// pageRequest is one request Chromium started on behalf of the page.
type pageRequest struct {
	url, initiator, kind string
}

// pageRequests reads Chromium's network log and returns the requests the
// page made: the main frame and everything it initiated. The browser's own
// background requests (update checks and the like, which the flags mostly
// silence and the resolver rules and proxy fail anyway) are left out: they
// are not the page's doing.
func pageRequests(t *testing.T, path, serverURL string) []pageRequest {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read chromium's net log: %v", err)
	}
	var log struct {
		Constants struct {
			LogEventTypes map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int            `json:"type"`
			Params map[string]any `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(raw, &log); err != nil {
		// A log cut short on exit lacks its closing brackets.
		if err2 := json.Unmarshal(append(bytesTrimRightComma(raw), []byte("]}")...), &log); err2 != nil {
			t.Fatalf("parse chromium's net log: %v", errors.Join(err, err2))
		}
	}
	start, ok := log.Constants.LogEventTypes["URL_REQUEST_START_JOB"]
	if !ok {
		t.Fatal("chromium's net log has no URL_REQUEST_START_JOB event type")
	}
	var out []pageRequest
	for _, e := range log.Events {
		if e.Type != start {
			continue
		}
		r := pageRequest{}
		r.url, _ = e.Params["url"].(string)
		r.initiator, _ = e.Params["initiator"].(string)
		r.kind, _ = e.Params["request_type"].(string)
		if r.kind == "main frame" || r.initiator == serverURL {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		t.Fatal("chromium's net log shows no request from the page; the log format may have changed")
	}
	return out
}

func bytesTrimRightComma(b []byte) []byte {
	s := strings.TrimRight(string(b), " \r\n\t,")
	return []byte(s)
}

var statusRE = regexp.MustCompile(`id="status"[^>]*>([^<]*)<`)

func statusText(dom string) string {
	if m := statusRE.FindStringSubmatch(dom); m != nil {
		return html.UnescapeString(m[1])
	}
	return "(no status element)"
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

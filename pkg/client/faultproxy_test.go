package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/internal/testenv"
	"github.com/triggershq/triggers/pkg/client"
)

// fault is one way the proxy misbehaves.
type fault int

const (
	passThrough     fault = iota
	tooMany               // 429 with Retry-After, request not forwarded
	unavailable           // 503, request not forwarded
	hangUpEarly           // connection closed, request not forwarded
	loseAnswer            // forwarded and answered by the server, then the connection is closed: the server stored it, the client never heard
	gatewayError          // forwarded, then answered 502 as if the upstream answer was lost
	truncatedAnswer       // forwarded, then the answer is cut off midway
	faultKinds
)

var faultNames = [...]string{"pass", "429", "503", "hang up before forwarding", "answer lost after forwarding", "502 after forwarding", "answer cut off"}

var errLoseAnswer = errors.New("fault proxy: dropping the upstream answer")

// faultProxy is a reverse proxy in front of the real server that injects
// faults into a fraction of requests. It never fails the same logical
// request (same Idempotency-Key, or same method and URL) more than
// maxStreak times in a row, so a client with enough attempts always gets
// through, and the test proves what retries do rather than how lucky they
// were.
type faultProxy struct {
	proxy     *httputil.ReverseProxy
	rate      float64
	maxStreak int

	mu       sync.Mutex
	rnd      *rand.Rand
	streak   map[string]int
	counts   [faultKinds]int
	replayed int // answers carrying Idempotent-Replayed: true
}

type faultKey struct{}

func newFaultProxy(t *testing.T, upstream string, rate float64, seed uint64) *faultProxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	fp := &faultProxy{rate: rate, maxStreak: 3, rnd: rand.New(rand.NewPCG(seed, seed)), streak: map[string]int{}}
	fp.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) },
		ModifyResponse: func(resp *http.Response) error {
			if resp.Header.Get("Idempotent-Replayed") == "true" {
				fp.mu.Lock()
				fp.replayed++
				fp.mu.Unlock()
			}
			switch resp.Request.Context().Value(faultKey{}) {
			case loseAnswer:
				_, _ = io.Copy(io.Discard, resp.Body) // the server has answered in full
				return errLoseAnswer
			case gatewayError:
				return errors.New("fault proxy: pretending the upstream answer was lost")
			case truncatedAnswer:
				resp.Body = &cutOff{r: resp.Body, left: 5}
			}
			return nil
		},
		ErrorLog: log.New(io.Discard, "", 0), // the cut-off answers are on purpose
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, errLoseAnswer) {
				hangUp(w)
				return
			}
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	return fp
}

// cutOff returns its first bytes, then fails, as a connection dying
// mid-answer does; ReverseProxy then aborts the response.
type cutOff struct {
	r    io.ReadCloser
	left int
}

func (c *cutOff) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errors.New("fault proxy: cut off")
	}
	n, err := c.r.Read(p[:min(len(p), c.left)])
	c.left -= n
	return n, err
}

func (c *cutOff) Close() error { return c.r.Close() }

func (fp *faultProxy) choose(r *http.Request) fault {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		key = r.Method + " " + r.URL.String()
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	f := passThrough
	if fp.streak[key] < fp.maxStreak && fp.rnd.Float64() < fp.rate {
		f = fault(1 + fp.rnd.IntN(int(faultKinds)-1))
	}
	if f == passThrough {
		delete(fp.streak, key)
	} else {
		fp.streak[key]++
	}
	fp.counts[f]++
	return f
}

func (fp *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := fp.choose(r)
	switch f {
	case tooMany:
		// Mostly "now", sometimes a real second, to be honoured.
		w.Header().Set("Retry-After", fmt.Sprint(fp.roll(4)/3))
		problem(w, http.StatusTooManyRequests, "rate_limited", "fault proxy: slow down")
		return
	case unavailable:
		problem(w, http.StatusServiceUnavailable, "unavailable", "fault proxy: unavailable")
		return
	case hangUpEarly:
		hangUp(w)
		return
	}
	fp.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), faultKey{}, f)))
}

func (fp *faultProxy) roll(n int) int {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return fp.rnd.IntN(n)
}

func (fp *faultProxy) report() (counts [faultKinds]int, replayed int) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return fp.counts, fp.replayed
}

// TestRetriesThroughFaults sends 300 events through a proxy that fails
// about a third of all requests (429 with Retry-After, 503, connections
// closed before forwarding, answers lost or cut off after the server
// stored the event, 502 after forwarding), then reads the inbox and acks
// everything through it too. The server must hold exactly 300 events, one
// per sequence number: retries lost nothing and duplicated nothing.
func TestRetriesThroughFaults(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	srv := testenv.StartServer(t, testenv.ServerOptions{})
	fp := newFaultProxy(t, srv.URL, 0.35, 20261128)
	proxy := httptest.NewServer(fp)
	t.Cleanup(proxy.Close)

	policy := client.RetryPolicy{MaxAttempts: fp.maxStreak + 2, MaxElapsed: 2 * time.Minute, BaseDelay: 5 * time.Millisecond, MaxDelay: 100 * time.Millisecond}
	faulty, err := client.New(proxy.URL, srv.APIKey, client.WithRetry(policy))
	if err != nil {
		t.Fatal(err)
	}
	direct, err := client.New(srv.URL, srv.APIKey)
	if err != nil {
		t.Fatal(err)
	}

	const n = 300
	ids := sendN(t, faulty, "fault.test", n, 8)

	// What the server holds, read without the proxy.
	checkExactlyOnce := func(events []client.Event, what string) {
		t.Helper()
		if len(events) != n {
			t.Errorf("%s: got %d events, want %d", what, len(events), n)
		}
		bySeq := make(map[int]string, n)
		for _, e := range events {
			var p seqPayload
			if err := e.DecodePayload(&p); err != nil {
				t.Fatal(err)
			}
			if prev, dup := bySeq[p.Seq]; dup {
				t.Errorf("%s: seq %d stored twice (%s and %s)", what, p.Seq, prev, e.ID)
			}
			bySeq[p.Seq] = e.ID
		}
		for i := range n {
			if bySeq[i] != ids[i] {
				t.Errorf("%s: seq %d: got event %q, want %q (the id Send returned)", what, i, bySeq[i], ids[i])
			}
		}
	}
	collect := func(c *client.Client) []client.Event {
		var events []client.Event
		for e, err := range c.InboxAll(t.Context(), client.InboxQuery{Type: "fault.test"}) {
			if err != nil {
				t.Fatalf("InboxAll: %v", err)
			}
			events = append(events, e)
		}
		return events
	}
	checkExactlyOnce(collect(direct), "inbox read directly")
	checkExactlyOnce(collect(faulty), "inbox read through the proxy")

	// Ack everything through the proxy: a repeated ack is harmless.
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				if _, err := faulty.Ack(t.Context(), ids[i]); err != nil {
					t.Errorf("ack %s through the proxy: %v", ids[i], err)
				}
			}
		})
	}
	wg.Wait()
	if rest := collect(direct); len(rest) != 0 {
		t.Errorf("inbox after acking all: got %d events, want 0", len(rest))
	}

	counts, replayed := fp.report()
	var lines []string
	for f, c := range counts {
		lines = append(lines, fmt.Sprintf("%s: %d", faultNames[f], c))
	}
	sort.Strings(lines)
	t.Logf("proxy: %s; replayed answers: %d", strings.Join(lines, ", "), replayed)
	for f := tooMany; f < faultKinds; f++ {
		if counts[f] == 0 {
			t.Errorf("the proxy never injected %q; the test proves less than it claims", faultNames[f])
		}
	}
	if replayed == 0 {
		t.Error("no retried send was answered as a replay: the lost-answer case was not exercised")
	}

	// Control: a naive client that retries POST /events without an
	// Idempotency-Key through the same proxy stores duplicates, so the
	// proxy does create the hazard the SDK is shown to survive.
	const naive = 60
	token := fetchToken(t, srv.URL, srv.APIKey)
	for i := range naive {
		body := fmt.Sprintf(`{"type":"fault.naive","source":"naive","payload":{"seq":%d}}`, i)
		for attempt := 0; ; attempt++ {
			if attempt > 20 {
				t.Fatalf("naive send %d never succeeded", i)
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, proxy.URL+"/events", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				continue
			}
			_, rerr := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusCreated && rerr == nil {
				break
			}
		}
	}
	stored := 0
	for _, err := range direct.InboxAll(t.Context(), client.InboxQuery{Type: "fault.naive"}) {
		if err != nil {
			t.Fatal(err)
		}
		stored++
	}
	t.Logf("control: %d naive sends stored %d events", naive, stored)
	if stored <= naive {
		t.Errorf("control: naive retries stored %d events for %d sends; the proxy did not lose any answer", stored, naive)
	}
}

// fetchToken gets a bearer token the way the seed's clients do.
func fetchToken(t *testing.T, base, apiKey string) string {
	t.Helper()
	resp, err := http.PostForm(base+"/token", url.Values{"username": {"api"}, "password": {apiKey}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("POST /token: status %d, %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

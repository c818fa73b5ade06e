package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/internal/testenv"
	"github.com/triggershq/triggers/pkg/client"
)

// The tests in this file run against the real binary (`triggers serve`),
// started on a free port by testenv.

// seqPayload is what the integration tests send: a sequence number to find
// every event again.
type seqPayload struct {
	Seq int `json:"seq"`
}

// sendN sends n events with payload seq 0..n-1 from workers goroutines and
// returns the created ids by seq.
func sendN(t *testing.T, c *client.Client, typ string, n, workers int) []string {
	t.Helper()
	ids := make([]string, n)
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				cr, err := c.Send(t.Context(), client.Event{Type: typ, Source: "sdk-it", Payload: seqPayload{i}})
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					continue
				}
				ids[i] = cr.ID
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d sends failed; first: %v", len(errs), n, errs[0])
	}
	return ids
}

// TestRealServerPagingAndAck: more than two full pages, walked with the
// iterator, newest first, acknowledged along the way, until the inbox is
// empty; an acked event reads back delivered.
func TestRealServerPagingAndAck(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	srv := testenv.StartServer(t, testenv.ServerOptions{})
	c, err := client.New(srv.URL, srv.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	const n = 260
	ids := sendN(t, c, "paging.test", n, 8)

	var walked []client.Event
	pages := 0
	for p, err := range c.InboxPages(t.Context(), client.InboxQuery{Type: "paging.test"}) {
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range p.Events {
			walked = append(walked, e)
			if _, err := c.Ack(t.Context(), e.ID); err != nil {
				t.Fatalf("ack %s: %v", e.ID, err)
			}
		}
	}
	if pages != 3 {
		t.Errorf("pages of 100: got %d, want 3", pages)
	}
	if len(walked) != n {
		t.Fatalf("events walked: got %d, want %d", len(walked), n)
	}
	seen := make(map[int]bool, n)
	for i, e := range walked {
		if i > 0 && e.ID >= walked[i-1].ID {
			t.Fatalf("event %d (%s) is not older than event %d (%s)", i, e.ID, i-1, walked[i-1].ID)
		}
		var p seqPayload
		if err := e.DecodePayload(&p); err != nil {
			t.Fatal(err)
		}
		if seen[p.Seq] || ids[p.Seq] != e.ID {
			t.Fatalf("seq %d: duplicate or id mismatch (%s vs %s)", p.Seq, e.ID, ids[p.Seq])
		}
		seen[p.Seq] = true
	}
	rest, err := c.Inbox(t.Context(), client.InboxQuery{Type: "paging.test"})
	if err != nil || len(rest.Events) != 0 {
		t.Fatalf("inbox after acking everything: got %d events, %v; want none", len(rest.Events), err)
	}
	got, err := c.Get(t.Context(), ids[0])
	if err != nil || got.Status != client.StatusDelivered {
		t.Errorf("Get of an acked event: got %+v, %v; want delivered", got, err)
	}
	again, err := c.Ack(t.Context(), ids[0])
	if err != nil || again.Status != client.StatusDelivered {
		t.Errorf("repeat ack: got %+v, %v; want delivered", again, err)
	}
	if _, err := c.Ack(t.Context(), "0190b6c4-0000-7000-8000-000000000000"); !client.IsNotFound(err) {
		t.Errorf("ack of an unknown id: got %v, want not found", err)
	}
}

// recorder is a RoundTripper that remembers what went over the wire: each
// request's path and answer status, and the last bearer token, which the
// test uses to see the server refuse it.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	log  []string // "POST /token 200"
	last string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	r.mu.Lock()
	defer r.mu.Unlock()
	if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
		r.last = tok
	}
	status := "error"
	if err == nil {
		status = http.StatusText(resp.StatusCode)
	}
	r.log = append(r.log, req.Method+" "+req.URL.Path+" "+status)
	return resp, err
}

func (r *recorder) take() (log []string, lastToken string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	log, r.log = r.log, nil
	return log, r.last
}

// TestRealServerTokenRefresh: with tokens living two seconds, the client
// replaces its token before the server would refuse it; after the token's
// signing key is rotated out of the running server, the client's next call
// is refused once, refreshes and succeeds.
func TestRealServerTokenRefresh(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	srv := testenv.StartServer(t, testenv.ServerOptions{Args: []string{"--token-ttl", "2s"}})
	rec := &recorder{next: http.DefaultTransport}
	c, err := client.New(srv.URL, srv.APIKey, client.WithHTTPClient(&http.Client{Transport: rec}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(t.Context(), client.Event{Type: "token.test", Source: "sdk-it"}); err != nil {
		t.Fatal(err)
	}
	first, firstToken := rec.take()
	if want := []string{"POST /token OK", "POST /events Created"}; !slices.Equal(first, want) {
		t.Fatalf("first send: got %v, want %v", first, want)
	}

	// Let the two-second token run out by the client's clock.
	time.Sleep(2100 * time.Millisecond)
	if _, err := c.Inbox(t.Context(), client.InboxQuery{}); err != nil {
		t.Fatal(err)
	}
	second, secondToken := rec.take()
	if want := []string{"POST /token OK", "GET /inbox OK"}; !slices.Equal(second, want) {
		t.Fatalf("after expiry: got %v, want a fresh token before the call (%v)", second, want)
	}
	if secondToken == firstToken {
		t.Fatal("the token was not replaced")
	}

	// A client whose clock stands still never refreshes early, so only the
	// server's refusal can make it: rotate the signing key out from under
	// its token.
	frozen := time.Now()
	rec2 := &recorder{next: http.DefaultTransport}
	c2, err := client.New(srv.URL, srv.APIKey, client.WithHTTPClient(&http.Client{Transport: rec2}),
		client.WithClock(func() time.Time { return frozen }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Inbox(t.Context(), client.InboxQuery{}); err != nil {
		t.Fatal(err)
	}
	_, token := rec2.take()
	oldKID := activeKID(t, srv.DataDir)
	runTriggers(t, "keys", "rotate-signing-key", "--data", srv.DataDir)
	runTriggers(t, "keys", "remove-signing-key", oldKID, "--data", srv.DataDir)
	waitRefused(t, srv.URL, token)
	if _, err := c2.Inbox(t.Context(), client.InboxQuery{}); err != nil {
		t.Fatalf("Inbox after the signing key was removed: %v", err)
	}
	if got, want := firstOf(rec2.take()), []string{"GET /inbox Unauthorized", "POST /token OK", "GET /inbox OK"}; !slices.Equal(got, want) {
		t.Fatalf("after the key rotation: got %v, want %v", got, want)
	}
}

func firstOf[A, B any](a A, _ B) A { return a }

func activeKID(t *testing.T, dataDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var creds struct {
		ActiveKID string `json:"active_kid"`
	}
	if err := json.Unmarshal(b, &creds); err != nil || creds.ActiveKID == "" {
		t.Fatalf("credentials.json has no active_kid (%v)", err)
	}
	return creds.ActiveKID
}

func runTriggers(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(testenv.TriggersBinary(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("triggers %v: %v\n%s", args, err, out)
	}
}

// waitRefused polls until the server refuses token (its keyring rereads
// credentials.json about once a second).
func waitRefused(t *testing.T, base, token string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/inbox?limit=1", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal("the server kept accepting a token whose signing key was removed")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

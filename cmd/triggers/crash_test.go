package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/triggershq/triggers/internal/testenv"
	"github.com/triggershq/triggers/pkg/boltstore"
)

// TestCrashKeepsEveryAcknowledgedEvent is the durability proof: the binary
// under concurrent ingest is killed with SIGKILL, restarted on the same data,
// and every event that got a 201 is there, with nothing corrupt.
func TestCrashKeepsEveryAcknowledgedEvent(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	dataDir := t.TempDir()
	const apiKey = "crash-test-operator-key-0123456789"
	opts := testenv.ServerOptions{DataDir: dataDir, Env: []string{"TRIGGERS_API_KEY=" + apiKey}}
	srv := testenv.StartServer(t, opts)
	c := &client{t: t, base: srv.URL}
	c.login(apiKey)

	var (
		mu       sync.Mutex
		accepted []string
		sent     atomic.Int64
	)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	httpc := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				body := fmt.Sprintf(`{"type":"crash.test","source":"worker-%d","payload":{"i":%d}}`, w, i)
				req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/events", bytes.NewReader([]byte(body)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+c.token)
				sent.Add(1)
				resp, err := httpc.Do(req)
				if err != nil {
					return // the server is gone
				}
				var created struct{ ID string }
				err = json.NewDecoder(resp.Body).Decode(&created)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated && err == nil {
					mu.Lock()
					accepted = append(accepted, created.ID)
					mu.Unlock()
				}
			}
		}(w)
	}
	// Let a few hundred writes land, then pull the plug mid-stream.
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(accepted)
		mu.Unlock()
		if n >= 500 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.Kill()
	stop()
	wg.Wait()
	if len(accepted) == 0 {
		t.Fatal("no event was accepted before the kill")
	}
	t.Logf("%d requests sent, %d acknowledged with 201 before SIGKILL", sent.Load(), len(accepted))

	// Nothing corrupt: the file passes a full consistency check.
	store, err := boltstore.Open(filepath.Join(dataDir, "triggers.db"), boltstore.Options{})
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	if err := store.Check(context.Background()); err != nil {
		t.Fatalf("store check after SIGKILL: %v", err)
	}
	store.Close()

	// Every 201 survived, served by a restarted binary.
	srv2 := testenv.StartServer(t, opts)
	c2 := &client{t: t, base: srv2.URL}
	c2.login(apiKey)
	for _, id := range accepted {
		status, _, body := c2.do("GET", "/events/"+id, "", nil)
		if status != http.StatusOK {
			t.Fatalf("event %s got a 201 before the crash but GET answers %d %s", id, status, body)
		}
	}
}

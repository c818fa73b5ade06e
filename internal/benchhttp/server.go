package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// benchKey is the operator key the benchmark servers accept; it exists only
// for the life of the benchmark's temporary data directories.
const benchKey = "benchmark-operator-key-0123456789abcdef"

type server struct {
	url string
	cmd *exec.Cmd
}

var listenRE = regexp.MustCompile(`listening on (http://\S+)`)

// startServer runs `triggers serve` on a free port with its logs discarded
// (logging every request would measure the terminal, not the server).
func startServer(binary, dataDir string, extra ...string) (*server, error) {
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dataDir, "--log-level", "error"}, extra...)
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "TRIGGERS_API_KEY="+benchKey)
	cmd.Stderr = io.Discard
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case u := <-found:
		return &server{url: u, cmd: cmd}, nil
	case <-time.After(5 * time.Minute):
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("server did not start")
	}
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

func (s *server) token(ctx context.Context, hc *http.Client) (string, error) {
	form := url.Values{"username": {"api"}, "password": {benchKey}}
	req, err := http.NewRequestWithContext(ctx, "POST", s.url+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST /token: status %d, %v", resp.StatusCode, err)
	}
	return tok.AccessToken, nil
}

// keepAliveClient is one HTTP client whose transport keeps a connection per
// concurrent worker alive, as a real load generator does.
func keepAliveClient(conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = conns * 2
	t.MaxIdleConnsPerHost = conns * 2
	t.MaxConnsPerHost = 0
	return &http.Client{Transport: t, Timeout: time.Minute}
}

// waitStreamCaughtUp waits until the stream worker has handled at least n
// created events (the triggers_events_ingested_total counter of
// GET /metrics), or, when a previous run already handled them, until the
// counter stops moving.
func (s *server) waitStreamCaughtUp(ctx context.Context, n int) error {
	deadline := time.Now().Add(10 * time.Minute)
	last, still := -1.0, 0
	for time.Now().Before(deadline) {
		v, err := s.metric(ctx, "triggers_events_ingested_total")
		if err != nil {
			return err
		}
		if v >= float64(n) {
			return nil
		}
		if v == last {
			if still++; still >= 5 {
				return nil // nothing left to handle: the checkpoint was already past them
			}
		} else {
			still = 0
		}
		last = v
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("the stream worker did not catch up with %d changes in 10 minutes", n)
}

// metric reads one unlabelled sample from GET /metrics.
func (s *server) metric(ctx context.Context, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", s.url+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("GET /metrics has no %s", name)
}

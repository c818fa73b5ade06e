package testenv

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// TriggersBinary builds ./cmd/triggers once per test binary (race detector
// on, so end-to-end runs also hunt races) and returns its path.
func TriggersBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := tempDir("triggers-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "triggers")
		args := []string{"build", "-o", buildPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "./cmd/triggers")...)
		cmd.Dir = RepoRoot(t)
		if raceEnabled {
			cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/triggers: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// RepoRoot returns the module root (the directory holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate testenv source")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Server is a `triggers serve` process started by a test.
type Server struct {
	URL     string // e.g. http://127.0.0.1:41234
	APIKey  string // the key printed on first start, if one was
	DataDir string
	cmd     *exec.Cmd
	stdout  *LockedBuffer
	stderr  *LockedBuffer
	done    chan struct{}
}

// ServerOptions configure StartServer.
type ServerOptions struct {
	DataDir string   // default: a fresh t.TempDir()
	Args    []string // extra flags for `triggers serve`
	Env     []string // extra KEY=VALUE environment
}

var (
	listenRE = regexp.MustCompile(`listening on (http://[^\s]+)`)
	keyRE    = regexp.MustCompile(`\b(trg_[A-Za-z0-9_-]+)`)
)

// StartServer starts the real binary on a free loopback port and waits until
// it prints its URL. The process is killed when the test ends.
func StartServer(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	bin := TriggersBinary(t)
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", opts.DataDir}, opts.Args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), opts.Env...)
	s := &Server{DataDir: opts.DataDir, cmd: cmd, stdout: &LockedBuffer{}, stderr: &LockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = s.stderr
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start triggers: %v", err)
	}
	go func() { _ = cmd.Wait(); pw.Close(); close(s.done) }()

	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			s.stdout.Write([]byte(line + "\n"))
			if m := keyRE.FindStringSubmatch(line); m != nil && s.APIKey == "" {
				s.setKey(m[1])
			}
			if m := listenRE.FindStringSubmatch(line); m != nil && !signalled {
				s.setURL(m[1])
				signalled = true
				close(ready)
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() { s.Kill() })

	select {
	case <-ready:
	case <-s.done:
		t.Fatalf("triggers serve exited before listening\nstdout:\n%s\nstderr:\n%s", s.Stdout(), s.Stderr())
	case <-time.After(60 * time.Second):
		t.Fatalf("triggers serve did not print its URL within 60s\nstderr:\n%s", s.Stderr())
	}
	// The key line is printed before the listening line; give the scanner a
	// moment in case both arrive in one read.
	return s
}

var serverMu sync.Mutex

func (s *Server) setKey(k string) { serverMu.Lock(); s.APIKey = k; serverMu.Unlock() }
func (s *Server) setURL(u string) { serverMu.Lock(); s.URL = u; serverMu.Unlock() }

// Stdout returns what the process printed on stdout so far.
func (s *Server) Stdout() string { return s.stdout.String() }

// Stderr returns what the process logged on stderr so far.
func (s *Server) Stderr() string { return s.stderr.String() }

// Kill sends SIGKILL and waits for the process to go away.
func (s *Server) Kill() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
	<-s.done
}

// Stop sends SIGTERM and waits up to timeout for a clean exit, returning the
// exit code (-1 if it had to be killed).
func (s *Server) Stop(timeout time.Duration) int {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(timeout):
		s.Kill()
		return -1
	}
	return s.cmd.ProcessState.ExitCode()
}

// Wait waits for the process to exit by itself, up to ctx.
func (s *Server) Wait(ctx context.Context) error {
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

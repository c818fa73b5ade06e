package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	functionsMu    sync.Mutex
	functionBuilds = map[string]*functionBuild{} // by the list of names
)

type functionBuild struct {
	once sync.Once
	dir  string
	err  error
}

// FunctionBinaries builds the named functions (./functions/<name>) for this
// host, with the flags of `make build-functions` (CGO_ENABLED=0, -tags
// lambda.norpc, -trimpath, stripped), in one go build, once per test binary
// and list of names. It returns the directory holding one binary per name;
// Main removes it.
func FunctionBinaries(t testing.TB, names ...string) string {
	t.Helper()
	key := strings.Join(names, ",")
	functionsMu.Lock()
	b := functionBuilds[key]
	if b == nil {
		b = &functionBuild{}
		functionBuilds[key] = b
	}
	functionsMu.Unlock()
	b.once.Do(func() {
		if b.dir, b.err = tempDir("triggers-functions-"); b.err != nil {
			return
		}
		args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", b.dir + string(os.PathSeparator)}
		for _, name := range names {
			args = append(args, "./functions/"+name)
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = RepoRoot(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build the functions %s: %v\n%s", key, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.dir
}

// rieBinary finds aws-lambda-rie on PATH or in the repository's bin/
// (`make tools` installs it there); the test is Unavailable without it.
func rieBinary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	p := filepath.Join(RepoRoot(t), "bin", "aws-lambda-rie")
	if _, err := os.Stat(p); err != nil {
		Unavailable(t, "aws-lambda-rie is not on PATH or in ./bin (run `make tools`)")
	}
	return p
}

// Lambda is one function binary running under the AWS Lambda Runtime
// Interface Emulator (aws-lambda-rie) on two loopback ports.
type Lambda struct {
	Name string        // the function's name, for messages
	URL  string        // the invoke URL: POST an event's JSON to it
	Out  *LockedBuffer // what the emulator and the function wrote
	cmd  *exec.Cmd
	done chan struct{}
}

// StartLambda runs the function binary bin under the emulator, with env
// added to this process's environment (the emulator passes its own on to
// the function), and stops it when the test ends. It tries three pairs of
// free ports, since another process may take one before the emulator
// binds it.
func StartLambda(t testing.TB, name, bin string, env map[string]string) *Lambda {
	t.Helper()
	rie := rieBinary(t)
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		api, rt := FreePort(t), FreePort(t)
		if api == rt {
			continue
		}
		l := &Lambda{Name: name, URL: fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/function/invocations", api),
			Out: &LockedBuffer{}, done: make(chan struct{})}
		l.cmd = exec.Command(rie,
			"--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", api),
			"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", rt),
			bin)
		l.cmd.Dir = filepath.Dir(bin)
		l.cmd.Env = os.Environ()
		for k, v := range env {
			l.cmd.Env = append(l.cmd.Env, k+"="+v)
		}
		l.cmd.Stdout, l.cmd.Stderr = l.Out, l.Out
		l.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the emulator starts the function as a child
		if err := l.cmd.Start(); err != nil {
			t.Fatalf("start aws-lambda-rie: %v", err)
		}
		go func() { _ = l.cmd.Wait(); close(l.done) }()
		if lastErr = l.waitListening(fmt.Sprintf("127.0.0.1:%d", api), fmt.Sprintf("127.0.0.1:%d", rt)); lastErr == nil {
			t.Cleanup(l.Stop)
			return l
		}
		l.Stop()
	}
	t.Fatalf("aws-lambda-rie for %s did not start: %v", name, lastErr)
	return nil
}

// waitListening waits until both of the emulator's ports accept
// connections and it is still running a moment later. A port chosen by
// FreePort can be taken by another process before the emulator binds it;
// the emulator then panics at once, and a dial could have reached the other
// process, so the emulator must also have survived its start.
func (l *Lambda) waitListening(addrs ...string) error {
	deadline := time.Now().Add(15 * time.Second)
	for _, addr := range addrs {
		for {
			select {
			case <-l.done:
				return fmt.Errorf("exited early:\n%s", l.Out.String())
			default:
			}
			if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("not listening on %s after 15s:\n%s", addr, l.Out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	select {
	case <-l.done:
		return fmt.Errorf("exited early:\n%s", l.Out.String())
	case <-time.After(100 * time.Millisecond):
	}
	if strings.Contains(l.Out.String(), "[PANIC]") {
		return fmt.Errorf("failed to start:\n%s", l.Out.String())
	}
	return nil
}

// Stop kills the emulator and the function and waits for them to go.
func (l *Lambda) Stop() {
	if l.cmd.Process != nil {
		_ = syscall.Kill(-l.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-l.done
}

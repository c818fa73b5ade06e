package testenv

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Moto is a running moto_server on loopback.
type Moto struct {
	// Endpoint is the base URL to give the AWS SDK (BaseEndpoint) or
	// AWS_ENDPOINT_URL, e.g. "http://127.0.0.1:41234".
	Endpoint string
	cmd      *exec.Cmd
}

var (
	motoOnce sync.Once
	motoSrv  *Moto
	motoErr  error
)

// StartMoto returns the package's shared moto_server, starting it on first
// use. Tests share one server per test binary (it takes ~2 s to start), so
// they must isolate themselves by name (a fresh table or secret per test)
// rather than by resetting it. Call StopMoto from TestMain.
//
// It also sets the static credentials and region the SDK needs in this
// process's environment.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	Integration(t)
	motoOnce.Do(func() { motoSrv, motoErr = startMoto() })
	if motoErr != nil {
		Unavailable(t, "moto_server: %v", motoErr)
	}
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":     "test",
		"AWS_SECRET_ACCESS_KEY": "test",
		"AWS_REGION":            "us-east-1",
	} {
		if os.Getenv(k) == "" {
			os.Setenv(k, v)
		}
	}
	return motoSrv
}

// StopMoto stops the shared moto_server if one was started.
func StopMoto() {
	if motoSrv != nil && motoSrv.cmd.Process != nil {
		_ = syscall.Kill(-motoSrv.cmd.Process.Pid, syscall.SIGKILL)
		_ = motoSrv.cmd.Wait()
	}
}

// serialisedDynamoDB runs moto_server with its DynamoDB requests handled one
// at a time. moto serves every request on its own thread, and its DynamoDB
// backend takes no lock: a conditional write reads the item, evaluates the
// condition, then writes, so two racing conditional writes can both succeed.
// (Measured here: of 400 rounds of 8 concurrent PutItem with
// attribute_not_exists on one key, 231 had more than one winner.) Real
// DynamoDB makes every single-item write atomic, and the suites that prove
// "exactly one of several racing writers wins" must be able to rely on that.
// Other services keep moto's concurrency, so SQS long polls still overlap.
// If this Python cannot import moto, it execs the plain moto_server.
const serialisedDynamoDB = `
import os, sys, threading
try:
    from moto.dynamodb.responses import DynamoHandler
    from moto.server import main
except ImportError as err:
    sys.stderr.write("testenv: %s: DynamoDB requests will not be serialised\n" % err)
    os.execvp("moto_server", ["moto_server"] + sys.argv[1:])
lock = threading.Lock()
call_action = DynamoHandler.call_action
def serialised(self):
    with lock:
        return call_action(self)
DynamoHandler.call_action = serialised
main(sys.argv[1:])
`

// motoCommand returns the command line that starts moto on port: through
// python3 with serialisedDynamoDB when there is a python3, else moto_server.
func motoCommand(port int) (*exec.Cmd, error) {
	args := []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)}
	if py, err := exec.LookPath("python3"); err == nil {
		return exec.Command(py, append([]string{"-c", serialisedDynamoDB}, args...)...), nil
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("moto_server not on PATH: %w", err)
	}
	return exec.Command(bin, args...), nil
}

func startMoto() (*Moto, error) {
	if _, err := exec.LookPath("moto_server"); err != nil {
		return nil, fmt.Errorf("moto_server not on PATH: %w", err)
	}
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freeLoopbackPort()
		if err != nil {
			return nil, err
		}
		cmd, err := motoCommand(port)
		if err != nil {
			return nil, err
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if os.Getenv("TRIGGERS_MOTO_LOG") != "" {
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start moto_server: %w", err)
		}
		m := &Moto{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
		if err := waitReady(m.Endpoint+"/moto-api/", 60*time.Second); err == nil {
			return m, nil
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}
	return nil, fmt.Errorf("moto_server did not become ready")
}

func waitReady(url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ctx.Err()
}

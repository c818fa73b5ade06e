// Package testenv holds what the integration suites share: the switch that
// selects them, the rule that CI fails loudly when a service cannot start,
// and starters for the real services they run against (moto_server).
//
// A plain `go test ./...` runs the fast suites and skips the integration ones
// with a message saying how to run them. `make test` sets
// TRIGGERS_INTEGRATION=1; CI also sets CI=true, under which a service that
// cannot start fails the test instead of skipping it.
package testenv

import (
	"net"
	"os"
	"strconv"
	"testing"
)

// Integration skips t unless integration suites are selected
// (TRIGGERS_INTEGRATION=1 or CI=true).
func Integration(t testing.TB) {
	t.Helper()
	if os.Getenv("TRIGGERS_INTEGRATION") == "" && !InCI() {
		t.Skip("integration suite: set TRIGGERS_INTEGRATION=1 (make test does) to run it")
	}
}

// InCI reports whether we run under CI (CI=true).
func InCI() bool {
	v, _ := strconv.ParseBool(os.Getenv("CI"))
	return v
}

// Unavailable reports that a service or tool the test needs could not be
// started: fatal under CI, a skip elsewhere.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true and a required service is unavailable: "+format, args...)
	}
	t.Skipf("service unavailable (fatal under CI=true): "+format, args...)
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := freeLoopbackPort()
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	return port
}

func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

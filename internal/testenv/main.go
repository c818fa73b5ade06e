package testenv

import (
	"os"
	"sync"
	"testing"
)

// Main is the whole TestMain of a test binary whose tests use StartMoto or
// build binaries with this package: it runs the tests, stops the shared
// moto_server, removes the binaries built, and exits with the tests' code.
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	StopMoto()
	removeTempDirs()
	os.Exit(code)
}

var (
	tempMu   sync.Mutex
	tempDirs []string
)

// tempDir makes a temporary directory for the rest of the test binary's
// life (built binaries shared by its tests), which Main removes.
func tempDir(pattern string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", err
	}
	tempMu.Lock()
	tempDirs = append(tempDirs, dir)
	tempMu.Unlock()
	return dir, nil
}

func removeTempDirs() {
	tempMu.Lock()
	defer tempMu.Unlock()
	for _, dir := range tempDirs {
		_ = os.RemoveAll(dir)
	}
	tempDirs = nil
}

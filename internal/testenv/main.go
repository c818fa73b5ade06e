package testenv

import (
	"os"
	"testing"
)

// Main is the whole TestMain of a test binary whose tests use StartMoto:
// it runs the tests, stops the shared moto_server and exits with the
// tests' code.
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	StopMoto()
	os.Exit(code)
}

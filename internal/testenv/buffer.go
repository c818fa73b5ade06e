package testenv

import (
	"bytes"
	"strings"
	"sync"
)

// LockedBuffer is a bytes.Buffer that a child process's output (its
// Stdout and Stderr), a logger and a test can use at once. The zero value
// is ready to use.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns a copy of everything written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Clone(l.b.String())
}

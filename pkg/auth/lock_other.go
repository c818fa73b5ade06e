//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly || windows)

package auth

import (
	"errors"
	"runtime"
)

// lockFile is unsupported here: refusing is safer than a read-modify-write
// that could lose another process's change.
func lockFile(path string) (unlock func(), err error) {
	return nil, errors.New("lock " + path + ": file locking is not supported on " + runtime.GOOS)
}

//go:build !unix

package auth

import "os"

// checkPrivate does nothing where Unix permission bits do not exist; protect
// the data directory with the platform's own access control.
func checkPrivate(string, os.FileInfo) error { return nil }

// syncDir does nothing: directories cannot be fsynced here.
func syncDir(string) error { return nil }

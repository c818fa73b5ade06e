//go:build unix

package auth

import (
	"fmt"
	"os"
)

// checkPrivate refuses a credentials file that group or others can read or
// write, as ssh does with private keys: it holds the JWT signing keys.
func checkPrivate(path string, info os.FileInfo) error {
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s is accessible by group or others (mode %04o); run: chmod 600 %s", path, perm, path)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

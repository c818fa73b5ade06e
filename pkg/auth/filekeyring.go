package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// maxCredentialsFile bounds how much of a credentials file is read.
const maxCredentialsFile = 4 << 20

// FileKeyringOptions configures a FileKeyring; every field is optional.
type FileKeyringOptions struct {
	// StaticKeys are held only in memory and added to the file's keys, such
	// as the Legacy key the server makes from TRIGGERS_API_KEY (NewLegacyKey).
	// Their ids must not clash with the file's.
	StaticKeys []APIKey
	// CheckInterval is how often the file is stat'ed for changes; default 1s.
	CheckInterval time.Duration
	Now           func() time.Time
}

// FileKeyring is the single binary's Keyring: a credentials.json file
// (mode 0600). Credentials re-reads the file when its identity, mtime or size
// changes, checking at most once per CheckInterval, so a `triggers keys
// revoke` run by another process takes effect within about a second.
//
// If the file becomes unreadable or invalid, Credentials returns the error
// until it is fixed: failing closed means a revocation can never be lost to
// a stale copy. It is safe for concurrent use.
type FileKeyring struct {
	path     string
	static   []APIKey
	interval time.Duration
	now      func() time.Time
	mu       sync.Mutex // serializes reloads
	state    atomic.Pointer[fileState]
}

var _ Keyring = (*FileKeyring)(nil)

// fileState is what one check of the file found.
type fileState struct {
	creds   *Credentials
	err     error
	info    os.FileInfo // nil when the stat failed
	checked time.Time
}

// OpenFileKeyring opens the credentials file at path, creating it (and its
// directory, mode 0700) with NewCredentials if absent. It fails if the file
// is invalid or, on Unix, readable by group or others.
func OpenFileKeyring(path string, opts FileKeyringOptions) (*FileKeyring, error) {
	if opts.CheckInterval <= 0 {
		opts.CheckInterval = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	static := make([]APIKey, len(opts.StaticKeys))
	for i, k := range opts.StaticKeys {
		if err := k.validate(); err != nil {
			return nil, fmt.Errorf("open keyring: static key: %w", err)
		}
		static[i] = k
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := updateCredentialsFile(path, opts.Now, func(*Credentials) error { return nil }); err != nil {
			return nil, fmt.Errorf("open keyring: %w", err)
		}
	}
	k := &FileKeyring{path: path, static: static, interval: opts.CheckInterval, now: opts.Now}
	s := k.check(&fileState{}, opts.Now())
	if s.err != nil {
		return nil, fmt.Errorf("open keyring: %w", s.err)
	}
	k.state.Store(s)
	return k, nil
}

// Path returns the credentials file's path.
func (k *FileKeyring) Path() string { return k.path }

// Credentials returns the current credentials. The result is shared: do not
// modify it.
func (k *FileKeyring) Credentials(context.Context) (*Credentials, error) {
	now := k.now()
	if s := k.state.Load(); k.fresh(s, now) {
		return s.creds, s.err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.state.Load()
	if !k.fresh(s, now) {
		s = k.check(s, now)
		k.state.Store(s)
	}
	return s.creds, s.err
}

func (k *FileKeyring) fresh(s *fileState, now time.Time) bool {
	d := now.Sub(s.checked)
	return d >= 0 && d < k.interval
}

// check stats the file and re-reads it if it is not the file prev read.
func (k *FileKeyring) check(prev *fileState, now time.Time) *fileState {
	info, err := os.Stat(k.path)
	if err != nil {
		return &fileState{err: fmt.Errorf("credentials file: %w", err), checked: now}
	}
	if prev.info != nil && os.SameFile(prev.info, info) &&
		prev.info.ModTime().Equal(info.ModTime()) && prev.info.Size() == info.Size() && prev.info.Mode() == info.Mode() {
		return &fileState{creds: prev.creds, err: prev.err, info: info, checked: now}
	}
	c, err := k.load(info)
	return &fileState{creds: c, err: err, info: info, checked: now}
}

func (k *FileKeyring) load(info os.FileInfo) (*Credentials, error) {
	if err := checkPrivate(k.path, info); err != nil {
		return nil, err
	}
	c, err := readCredentialsFile(k.path)
	if err != nil {
		return nil, err
	}
	for _, s := range k.static {
		if err := c.AddAPIKey(s); err != nil {
			return nil, fmt.Errorf("credentials file %s: static key: %w", k.path, err)
		}
	}
	return c, nil
}

// readCredentialsFile reads and validates a credentials file.
func readCredentialsFile(path string) (*Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("credentials file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCredentialsFile+1))
	if err != nil {
		return nil, fmt.Errorf("credentials file %s: %w", path, err)
	}
	if len(data) > maxCredentialsFile {
		return nil, fmt.Errorf("credentials file %s: larger than %d bytes", path, maxCredentialsFile)
	}
	c, err := ParseCredentials(data)
	if err != nil {
		return nil, fmt.Errorf("credentials file %s: %w", path, err)
	}
	return c, nil
}

// UpdateCredentialsFile changes the credentials file at path: under an
// exclusive lock on the sibling file path+".lock", it reads the document (or
// starts from NewCredentials if there is none), calls fn, validates the
// result and writes it atomically (temporary file, fsync, rename, fsync of
// the directory) with mode 0600. Nothing is written if fn or validation
// fails. Running FileKeyrings pick the change up on their next check.
func UpdateCredentialsFile(path string, fn func(*Credentials) error) error {
	return updateCredentialsFile(path, time.Now, fn)
}

func updateCredentialsFile(path string, now func() time.Time, fn func(*Credentials) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("update credentials: %w", err)
	}
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return fmt.Errorf("update credentials: %w", err)
	}
	defer unlock()
	c, err := readCredentialsFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		c, err = NewCredentials(now())
	}
	if err != nil {
		return fmt.Errorf("update credentials: %w", err)
	}
	if err := fn(c); err != nil {
		return fmt.Errorf("update credentials: %w", err)
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("update credentials: %w", err)
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("update credentials: %w", err)
	}
	if err := writeFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("update credentials: %w", err)
	}
	return nil
}

// writeFileAtomic replaces path with data so that readers see the old or the
// new content, never a mix, and the new content survives a crash.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

package main

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/triggershq/triggers/pkg/auth"
)

const credentialsFile = "credentials.json"

// envKeyID is the id of the in-memory key made from TRIGGERS_API_KEY. It is
// stable so tokens issued from that key survive a restart.
const envKeyID = "env"

// openKeyring makes sure the data directory holds a usable credentials file
// and returns the keyring the server authenticates with.
//
// With neither TRIGGERS_API_KEY nor any active stored key, a key with every
// scope is created and printed once on stdout: it exists nowhere else in
// plaintext, so it is never written to the log.
func openKeyring(c serveConfig, e env, logger *slog.Logger) (*auth.FileKeyring, error) {
	path := filepath.Join(c.dataDir, credentialsFile)
	var static []auth.APIKey
	if c.envAPIKey != "" {
		if strings.HasPrefix(c.envAPIKey, auth.KeyPrefix) {
			return nil, usagef("TRIGGERS_API_KEY must be an operator-chosen secret, not a generated %s key: generated keys already live in %s", auth.KeyPrefix, path)
		}
		k, err := auth.NewLegacyKey(envKeyID, "TRIGGERS_API_KEY", c.envAPIKey, auth.AllScopes(), time.Now())
		if err != nil {
			return nil, usagef("TRIGGERS_API_KEY: %v", err)
		}
		static = append(static, k)
	}

	var created string
	err := auth.UpdateCredentialsFile(path, func(cr *auth.Credentials) error {
		if c.envAPIKey != "" || activeKeys(cr, time.Now()) > 0 {
			return nil
		}
		plaintext, k, err := auth.GenerateAPIKey("default", auth.AllScopes(), time.Now())
		if err != nil {
			return err
		}
		created = plaintext
		return cr.AddAPIKey(k)
	})
	if err != nil {
		return nil, fmt.Errorf("credentials %s: %w", path, err)
	}
	if created != "" {
		printNewKey(e.stdout, "default", created)
		logger.Info("created the first API key; it was printed once on stdout", "name", "default")
	}
	keyring, err := auth.OpenFileKeyring(path, auth.FileKeyringOptions{StaticKeys: static})
	if err != nil {
		return nil, fmt.Errorf("credentials %s: %w", path, err)
	}
	return keyring, nil
}

func activeKeys(c *auth.Credentials, now time.Time) int {
	n := 0
	for _, k := range c.APIKeys {
		if !k.Revoked(now) {
			n++
		}
	}
	return n
}

func printNewKey(w io.Writer, name, plaintext string) {
	fmt.Fprintf(w, "API key %q (shown once; store it now): %s\n", name, plaintext)
}

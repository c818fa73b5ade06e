package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/triggershq/triggers/pkg/auth"
)

const keysUsage = `Usage: triggers keys <command> [flags]

Commands:
  create --name NAME [--scopes LIST]   create a key; prints it once
  list                                 list keys (never their secrets)
  revoke ID                            revoke a key; its tokens stop working within a second
  hash --name NAME [--scopes LIST]     create a key for an AWS deployment: prints the key once
                                       and the api_keys entry to add to the Secrets Manager secret
  rotate-signing-key                   start signing tokens with a new key; old tokens keep working
  remove-signing-key KID               stop accepting tokens signed by an old key

Flags common to all commands except hash: --data DIR (default ./data).
Scopes: a comma-separated list of events:write, inbox:read, inbox:ack,
subscriptions:manage; default all.
`

func runKeys(_ context.Context, args []string, e env) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, keysUsage)
		return usagef("keys: no command given")
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("keys "+cmd, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	dataDir := fs.String("data", "./data", "data directory holding credentials.json")
	name := fs.String("name", "", "a name for the key (who uses it)")
	scopeList := fs.String("scopes", "", "comma-separated scopes (default: all)")
	asJSON := fs.Bool("json", false, "list: print JSON")
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	path := filepath.Join(*dataDir, credentialsFile)
	now := time.Now()

	switch cmd {
	case "create", "hash":
		if len(positional) > 0 {
			return usagef("keys %s takes no arguments; use --name", cmd)
		}
		if *name == "" {
			return usagef("keys %s: --name is required", cmd)
		}
		scopes, err := parseScopeList(*scopeList)
		if err != nil {
			return err
		}
		plaintext, key, err := auth.GenerateAPIKey(*name, scopes, now)
		if err != nil {
			return err
		}
		if cmd == "hash" {
			return printHashEntry(e, plaintext, key)
		}
		if err := auth.UpdateCredentialsFile(path, func(c *auth.Credentials) error { return c.AddAPIKey(key) }); err != nil {
			return fmt.Errorf("keys create: %w", err)
		}
		printNewKey(e.stdout, *name, plaintext)
		fmt.Fprintf(e.stderr, "key id %s, scopes %s\n", key.ID, joinScopes(key.Scopes))
		return nil
	case "list":
		return listKeys(e, path, *asJSON, now)
	case "revoke":
		if len(positional) != 1 {
			return usagef("keys revoke: give exactly one key id")
		}
		id := positional[0]
		if err := auth.UpdateCredentialsFile(path, func(c *auth.Credentials) error { return c.RevokeAPIKey(id, now) }); err != nil {
			return fmt.Errorf("keys revoke %s: %w", id, err)
		}
		fmt.Fprintf(e.stdout, "revoked %s\n", id)
		return nil
	case "rotate-signing-key":
		var kid string
		err := auth.UpdateCredentialsFile(path, func(c *auth.Credentials) error {
			var err error
			kid, err = c.RotateSigningKey(now)
			return err
		})
		if err != nil {
			return fmt.Errorf("keys rotate-signing-key: %w", err)
		}
		fmt.Fprintf(e.stdout, "new signing key %s is active; tokens signed by older keys keep working until you remove those keys\n", kid)
		return nil
	case "remove-signing-key":
		if len(positional) != 1 {
			return usagef("keys remove-signing-key: give exactly one key id (kid)")
		}
		kid := positional[0]
		if err := auth.UpdateCredentialsFile(path, func(c *auth.Credentials) error { return c.RemoveSigningKey(kid) }); err != nil {
			return fmt.Errorf("keys remove-signing-key %s: %w", kid, err)
		}
		fmt.Fprintf(e.stdout, "removed signing key %s; tokens it signed no longer verify\n", kid)
		return nil
	}
	fmt.Fprint(e.stderr, keysUsage)
	return usagef("keys: unknown command %q", cmd)
}

func parseScopeList(s string) ([]auth.Scope, error) {
	if strings.TrimSpace(s) == "" {
		return auth.AllScopes(), nil
	}
	var parts []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	scopes, err := auth.ParseScopes(parts)
	if err != nil {
		return nil, usagef("--scopes: %v", err)
	}
	return scopes, nil
}

func joinScopes(scopes []auth.Scope) string {
	s := make([]string, len(scopes))
	for i, sc := range scopes {
		s[i] = string(sc)
	}
	return strings.Join(s, ",")
}

// printHashEntry prints what an AWS operator needs: the key itself once (on
// stderr, so a pipeline capturing stdout only gets the JSON) and the
// api_keys entry to merge into the Secrets Manager secret (on stdout).
func printHashEntry(e env, plaintext string, key auth.APIKey) error {
	entry, err := json.Marshal(key)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "API key %q (shown once; store it now): %s\n", key.Name, plaintext)
	fmt.Fprintf(e.stdout, "%s\n", entry)
	return nil
}

func listKeys(e env, path string, asJSON bool, now time.Time) error {
	keyring, err := auth.OpenFileKeyring(path, auth.FileKeyringOptions{})
	if err != nil {
		return fmt.Errorf("keys list: %w", err)
	}
	creds, err := keyring.Credentials(context.Background())
	if err != nil {
		return fmt.Errorf("keys list: %w", err)
	}
	type row struct {
		ID        string     `json:"id"`
		Name      string     `json:"name"`
		Scopes    []string   `json:"scopes"`
		CreatedAt time.Time  `json:"created_at"`
		RevokedAt *time.Time `json:"revoked_at,omitempty"`
	}
	rows := make([]row, 0, len(creds.APIKeys))
	for _, k := range creds.APIKeys {
		rows = append(rows, row{ID: k.ID, Name: k.Name, Scopes: strings.Split(joinScopes(k.Scopes), ","), CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt})
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tCREATED\tSTATUS")
	for _, r := range rows {
		status := "active"
		if r.RevokedAt != nil && !r.RevokedAt.After(now) {
			status = "revoked " + r.RevokedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, strings.Join(r.Scopes, ","), r.CreatedAt.Format(time.RFC3339), status)
	}
	return tw.Flush()
}

package auth

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
)

// The types that hold secrets print and log themselves with the secrets
// replaced, so passing one to fmt or slog by mistake is harmless. Format
// covers every fmt verb (%v, %+v, %#v, %s, %d, %x...), which String alone
// would not.

const redacted = "[REDACTED]"

// String describes the key without its hash.
func (k APIKey) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "APIKey{ID:%q Name:%q Hash:%s Scopes:[%s] CreatedAt:%s", k.ID, k.Name, redacted,
		scopeList(k.Scopes), k.CreatedAt.Format(time.RFC3339))
	if k.RevokedAt != nil {
		fmt.Fprintf(&b, " RevokedAt:%s", k.RevokedAt.Format(time.RFC3339))
	}
	if k.Legacy {
		b.WriteString(" Legacy:true")
	}
	b.WriteByte('}')
	return b.String()
}

// GoString is String: %#v must not print the hash either.
func (k APIKey) GoString() string { return k.String() }

// Format prints String for every verb.
func (k APIKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// LogValue logs the key without its hash.
func (k APIKey) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("id", k.ID),
		slog.String("name", k.Name),
		slog.String("scopes", scopeList(k.Scopes)),
		slog.Bool("legacy", k.Legacy),
	}
	if k.RevokedAt != nil {
		attrs = append(attrs, slog.Time("revoked_at", *k.RevokedAt))
	}
	return slog.GroupValue(attrs...)
}

// String describes the credentials without signing keys or hashes.
func (c Credentials) String() string {
	ids := make([]string, len(c.APIKeys))
	for i, k := range c.APIKeys {
		ids[i] = k.ID
	}
	return fmt.Sprintf("Credentials{ActiveKID:%q SigningKeys:[%s]=%s APIKeys:[%s]}",
		c.ActiveKID, strings.Join(slices.Sorted(maps.Keys(c.SigningKeys)), " "), redacted, strings.Join(ids, " "))
}

// GoString is String.
func (c Credentials) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Credentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue logs kids and key ids only.
func (c Credentials) LogValue() slog.Value {
	ids := make([]string, len(c.APIKeys))
	for i, k := range c.APIKeys {
		ids[i] = k.ID
	}
	return slog.GroupValue(
		slog.String("active_kid", c.ActiveKID),
		slog.Any("kids", slices.Sorted(maps.Keys(c.SigningKeys))),
		slog.Any("api_key_ids", ids),
	)
}

// String describes the token without the token itself.
func (t Token) String() string {
	return fmt.Sprintf("Token{AccessToken:%s ExpiresIn:%d ExpiresAt:%s Subject:%q}",
		redacted, t.ExpiresIn, t.ExpiresAt.Format(time.RFC3339), t.Principal.Subject)
}

// GoString is String.
func (t Token) GoString() string { return t.String() }

// Format prints String for every verb.
func (t Token) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(t.String())) }

// LogValue logs the token's subject and expiry only.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("sub", t.Principal.Subject),
		slog.String("jti", t.Principal.TokenID),
		slog.Time("expires_at", t.ExpiresAt),
	)
}

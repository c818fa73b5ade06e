package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Known reports whether s is one of the scopes in AllScopes.
func (s Scope) Known() bool { return slices.Contains(AllScopes(), s) }

// ParseScopes converts scope names to Scopes. Every name must be a known
// scope; duplicates are dropped, keeping the first occurrence's order. An
// unknown name is an error rather than being ignored, because a misspelt
// scope in a key document would otherwise silently take a permission away.
func ParseScopes(s []string) ([]Scope, error) {
	out := make([]Scope, 0, len(s))
	for _, name := range s {
		sc := Scope(name)
		if !sc.Known() {
			return nil, fmt.Errorf("unknown scope %q (known: %s)", truncate(name, 40), scopeList(AllScopes()))
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// scopeList joins scopes with single spaces, the form of a token's scope
// claim (RFC 9068, RFC 8693 §4.2).
func scopeList(scopes []Scope) string {
	var b strings.Builder
	for i, s := range scopes {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(s))
	}
	return b.String()
}

// grantedScopes returns the scopes named in a token's scope claim that the
// key still holds: a token never grants more than its key has now, so taking
// a scope away from a key takes it away from the key's live tokens too.
// Unknown names are ignored; the result has no duplicates.
func grantedScopes(claim string, held []Scope) []Scope {
	out := make([]Scope, 0, len(held))
	for name := range strings.SplitSeq(claim, " ") {
		sc := Scope(name)
		if slices.Contains(held, sc) && !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// truncate shortens s for an error message about untrusted input.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

// FuzzAuthorize: no header panics, every refusal is a 401 with a message
// that does not repeat the header, and the only header that authorizes is
// the genuine token behind a Bearer scheme, byte for byte: tokens are not
// malleable.
func FuzzAuthorize(f *testing.F) {
	b := fixedSetup(f)
	k1 := b.keys.creds.SigningKeys["k1"]
	claims := goodClaims(fixedID, t0)
	genuine := forge(f, goodHeader("k1"), claims, k1)
	if _, err := b.authn.Authorize(context.Background(), "Bearer "+genuine); err != nil {
		f.Fatalf("the genuine token does not authorize: %v", err)
	}
	parts := strings.Split(genuine, ".")
	for _, s := range []string{
		"", "Bearer", "Bearer ", "bearer " + genuine, "Bearer  " + genuine, "Basic " + genuine,
		"Bearer " + genuine + " ", "Bearer " + genuine[:len(genuine)-1], "Bearer a.b.c", "Bearer ..",
		"Bearer " + parts[0] + "." + parts[1] + ".",
		"Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".",
		"Bearer " + forge(f, goodHeader("k1"), claims, []byte("not-the-key-not-the-key-not-the-key")),
		"Bearer " + forge(f, map[string]any{"alg": "HS512", "typ": "JWT", "kid": "k1"}, claims, k1),
		"Bearer " + forge(f, map[string]any{"alg": "HS256", "typ": "JWT", "kid": "nope"}, claims, k1),
		"Bearer " + forge(f, map[string]any{"alg": "HS256", "typ": "JWT", "kid": "k1", "crit": []string{"b64"}}, claims, k1),
		"Bearer " + parts[0] + ".e30." + parts[2],
		"Bearer eyJ9.eyJ9.e30",
		"Bearer " + strings.Repeat("A", 9000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		p, err := b.authn.Authorize(context.Background(), header)
		if err == nil {
			scheme, tok, _ := strings.Cut(header, " ")
			if !strings.EqualFold(scheme, "Bearer") || tok != genuine {
				t.Fatalf("authorized %q as %+v; only the genuine token may authorize", header, p)
			}
			return
		}
		var e *event.Error
		if !errors.As(err, &e) || e.Code != event.CodeUnauthorized || e.Message == "" {
			t.Fatalf("got %v, want a 401 with a message", err)
		}
		if len(header) >= 8 && strings.Contains(e.Message, header) {
			t.Fatalf("message %q repeats the header", e.Message)
		}
	})
}

// FuzzIssueToken: arbitrary presented keys never panic and never get a
// token, except the real ones. Each call costs one argon2id, so the seed
// corpus is small.
func FuzzIssueToken(f *testing.F) {
	b := fixedSetup(f)
	full := fixedPlain
	for _, s := range []string{full, "", "trg_", "trg__", "trg_x_", full[:len(full)-1], full + "x", "trg_" + strings.Repeat("a", 64) + "_x", "\x00", "SECRET"} {
		f.Add(s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f.Fuzz(func(t *testing.T, key string) {
		_, err := b.authn.IssueToken(ctx, key)
		if err == nil {
			if key != fixedPlain {
				t.Fatalf("issued a token for %q", key)
			}
			return
		}
		if c := event.ErrorCode(err); c != event.CodeUnauthorized && c != event.CodeUnavailable {
			t.Fatalf("got %v, want 401 or 503", err)
		}
	})
}

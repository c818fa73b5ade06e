package auth_test

import (
	"context"
	"testing"

	"github.com/triggershq/triggers/pkg/auth"
)

// BenchmarkIssueToken is the cost of POST /token: one argon2id
// verification (m=19 MiB, t=2, p=1) and one HS256 signature.
func BenchmarkIssueToken(b *testing.B) {
	bb := setup(b)
	key := bb.keys.plain["full"]
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bb.authn.IssueToken(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAPIKey is argon2id alone.
func BenchmarkVerifyAPIKey(b *testing.B) {
	bb := setup(b)
	hash := bb.keys.creds.APIKeys[0].Hash
	key := bb.keys.plain["full"]
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := auth.VerifyAPIKey(hash, key); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkAuthorize is the per-request cost of bearer authentication:
// header parsing, JWT decoding, HS256 verification, claim checks and the
// key lookup.
func BenchmarkAuthorize(b *testing.B) {
	bb := setup(b)
	header := "Bearer " + bb.issue(b, "full").AccessToken
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bb.authn.Authorize(ctx, header); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthorizeParallel is BenchmarkAuthorize on every core.
func BenchmarkAuthorizeParallel(b *testing.B) {
	bb := setup(b)
	header := "Bearer " + bb.issue(b, "full").AccessToken
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := bb.authn.Authorize(ctx, header); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkAuthorizeRejectGarbage is the cost of refusing a well-shaped
// token with a bad signature: what an attacker can make each request cost.
func BenchmarkAuthorizeRejectGarbage(b *testing.B) {
	bb := setup(b)
	tok := bb.issue(b, "full").AccessToken
	header := "Bearer " + tok[:len(tok)-2] + "AA"
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bb.authn.Authorize(ctx, header); err == nil {
			b.Fatal("authorized a bad signature")
		}
	}
}

package auth_test

import (
	"strings"
	"testing"

	"github.com/triggershq/triggers/pkg/auth"
)

func TestHashAPIKeyVerifies(t *testing.T) {
	t.Parallel()
	phc, err := auth.HashAPIKey("trg_abc_secret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("got %q, want OWASP minimum parameters", phc)
	}
	if canon, err := auth.ParsePHC(phc); err != nil || canon != phc {
		t.Fatalf("ParsePHC: got %q, %v, want %q", canon, err, phc)
	}
	again, err := auth.HashAPIKey("trg_abc_secret")
	if err != nil || again == phc {
		t.Fatalf("got the same hash twice (%v): salts must be random", err)
	}
	for _, tc := range []struct {
		plain string
		want  bool
	}{
		{"trg_abc_secret", true},
		{"trg_abc_secreT", false},
		{"trg_abc_secret ", false},
		{"x", false},
	} {
		got, err := auth.VerifyAPIKey(phc, tc.plain)
		if err != nil || got != tc.want {
			t.Errorf("VerifyAPIKey(%q): got %v, %v, want %v", tc.plain, got, err, tc.want)
		}
	}
}

func TestHashAPIKeyRejects(t *testing.T) {
	t.Parallel()
	for _, plain := range []string{"", strings.Repeat("k", 1025)} {
		if _, err := auth.HashAPIKey(plain); err == nil {
			t.Errorf("HashAPIKey(len %d): got nil error, want one", len(plain))
		}
	}
}

// salt16 and key32 are valid base64 values of the minimum lengths.
const (
	salt16 = "YoTh9mqzvMOCXnW2eNANUw"
	key32  = "3oNc2b+PbMFXCCpM8O++jOnKqqfQS7XeVWKi2t/S6Xc"
	params = "$argon2id$v=19$m=19456,t=2,p=1$"
)

func TestParsePHCHostile(t *testing.T) {
	t.Parallel()
	good := params + salt16 + "$" + key32
	if _, err := auth.ParsePHC(good); err != nil {
		t.Fatalf("good PHC rejected: %v", err)
	}
	for name, s := range map[string]string{
		"empty":                "",
		"argon2i":              "$argon2i$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32,
		"argon2d":              "$argon2d$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32,
		"bcrypt":               "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
		"no version":           "$argon2id$m=19456,t=2,p=1$" + salt16 + "$" + key32,
		"version 16":           "$argon2id$v=16$m=19456,t=2,p=1$" + salt16 + "$" + key32,
		"memory below minimum": "$argon2id$v=19$m=19455,t=2,p=1$" + salt16 + "$" + key32,
		"memory absurd":        "$argon2id$v=19$m=4294967295,t=2,p=1$" + salt16 + "$" + key32,
		"memory overflow":      "$argon2id$v=19$m=99999999999999999999,t=2,p=1$" + salt16 + "$" + key32,
		"memory 64 MiB + 1":    "$argon2id$v=19$m=65537,t=2,p=1$" + salt16 + "$" + key32,
		"cost m×t too high":    "$argon2id$v=19$m=65536,t=8,p=1$" + salt16 + "$" + key32,
		"time 0":               "$argon2id$v=19$m=19456,t=0,p=1$" + salt16 + "$" + key32,
		"time 1":               "$argon2id$v=19$m=19456,t=1,p=1$" + salt16 + "$" + key32,
		"time absurd":          "$argon2id$v=19$m=19456,t=1000000,p=1$" + salt16 + "$" + key32,
		"threads 0":            "$argon2id$v=19$m=19456,t=2,p=0$" + salt16 + "$" + key32,
		"threads 255":          "$argon2id$v=19$m=19456,t=2,p=255$" + salt16 + "$" + key32,
		"threads 256 overflow": "$argon2id$v=19$m=19456,t=2,p=256$" + salt16 + "$" + key32,
		"leading zero":         "$argon2id$v=19$m=019456,t=2,p=1$" + salt16 + "$" + key32,
		"plus sign":            "$argon2id$v=19$m=+19456,t=2,p=1$" + salt16 + "$" + key32,
		"negative":             "$argon2id$v=19$m=-19456,t=2,p=1$" + salt16 + "$" + key32,
		"unicode digits":       "$argon2id$v=19$m=１９４５６,t=2,p=1$" + salt16 + "$" + key32,
		"hex":                  "$argon2id$v=19$m=0x4c00,t=2,p=1$" + salt16 + "$" + key32,
		"missing p":            "$argon2id$v=19$m=19456,t=2$" + salt16 + "$" + key32,
		"reordered":            "$argon2id$v=19$t=2,m=19456,p=1$" + salt16 + "$" + key32,
		"extra param":          "$argon2id$v=19$m=19456,t=2,p=1,keyid=x$" + salt16 + "$" + key32,
		"empty param":          "$argon2id$v=19$m=,t=2,p=1$" + salt16 + "$" + key32,
		"spaces":               "$argon2id$v=19$m=19456, t=2, p=1$" + salt16 + "$" + key32,
		"missing salt":         "$argon2id$v=19$m=19456,t=2,p=1",
		"missing hash":         "$argon2id$v=19$m=19456,t=2,p=1$" + salt16,
		"empty hash":           good[:len(good)-len(key32)],
		"extra segment":        good + "$x",
		"padded salt":          "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "==$" + key32,
		"urlsafe salt":         "$argon2id$v=19$m=19456,t=2,p=1$YoTh9mqzvMOCXnW2eNANU-$" + key32,
		"salt not base64":      "$argon2id$v=19$m=19456,t=2,p=1$!!!!!!!!!!!!!!!!!!!!!!$" + key32,
		"salt 8 bytes":         "$argon2id$v=19$m=19456,t=2,p=1$YoTh9mqzvMM$" + key32,
		"salt huge":            "$argon2id$v=19$m=19456,t=2,p=1$" + strings.Repeat("A", 200) + "$" + key32,
		"hash 16 bytes":        "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$" + salt16,
		"non-canonical base64": "$argon2id$v=19$m=19456,t=2,p=1$YoTh9mqzvMOCXnW2eNANUx$" + key32,
		"trailing newline":     good + "\n",
		"leading space":        " " + good,
		"nul byte":             good[:20] + "\x00" + good[21:],
		"too long":             good + strings.Repeat("A", 300),
		"only dollars":         "$$$$$$",
		"prefix only":          "$argon2id$v=19$",
		"hash too long":        "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32 + key32,
		"newline in salt":      "$argon2id$v=19$m=19456,t=2,p=1$YoTh9mqzvMOC\nXnW2eNANUw$" + key32,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if canon, err := auth.ParsePHC(s); err == nil {
				t.Fatalf("ParsePHC(%q): got %q, want an error", s, canon)
			}
			ok, err := auth.VerifyAPIKey(s, "anything")
			if err == nil || ok {
				t.Fatalf("VerifyAPIKey: got %v, %v, want false and an error", ok, err)
			}
		})
	}
}

func TestVerifyAPIKeyRejectsPlaintextLength(t *testing.T) {
	t.Parallel()
	for _, plain := range []string{"", strings.Repeat("k", 1025)} {
		if ok, err := auth.VerifyAPIKey(auth.DummyPHC, plain); err == nil || ok {
			t.Errorf("len %d: got %v, %v, want false and an error", len(plain), ok, err)
		}
	}
}

// FuzzParsePHC: hostile PHC strings never panic, and anything accepted has
// exactly one spelling (re-encoding gives the input back).
func FuzzParsePHC(f *testing.F) {
	good := params + salt16 + "$" + key32
	for _, s := range []string{
		good, "", "$argon2id$v=19$", "$argon2id$v=19$m=4294967295,t=2,p=1$" + salt16 + "$" + key32,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "==$" + key32, good + "$", "$argon2i$v=19$m=19456,t=2,p=1$$",
		"$argon2id$v=19$m=65536,t=4,p=4$" + salt16 + "$" + key32,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		canon, err := auth.ParsePHC(s)
		if err != nil {
			return
		}
		if canon != s {
			t.Fatalf("accepted %q but it re-encodes as %q", s, canon)
		}
	})
}

// FuzzVerifyAPIKey: whatever the inputs, only the real pair verifies. Bad
// parameters are refused before any hashing, so this stays cheap except for
// inputs that are valid PHC strings.
func FuzzVerifyAPIKey(f *testing.F) {
	const plain, phc = fixedPlain, fixedPHC
	f.Add(phc, plain)
	f.Add(phc, plain+"x")
	f.Add(phc, "")
	f.Add(auth.DummyPHC, plain)
	f.Add("$argon2id$v=19$m=4294967295,t=4294967295,p=255$"+salt16+"$"+key32, plain)
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$$", plain)
	f.Fuzz(func(t *testing.T, h, p string) {
		ok, err := auth.VerifyAPIKey(h, p)
		if err != nil && ok {
			t.Fatalf("got true with error %v", err)
		}
		if ok && (h != phc || p != plain) {
			t.Fatalf("VerifyAPIKey(%q, %q) = true, want only the real pair to verify", h, p)
		}
		if _, perr := auth.ParsePHC(h); perr != nil && err == nil {
			t.Fatalf("VerifyAPIKey accepted a PHC string ParsePHC rejects: %v", perr)
		}
	})
}

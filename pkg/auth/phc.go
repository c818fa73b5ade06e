package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// The argon2id parameters HashAPIKey uses: OWASP's recommended minimum
// (Password Storage Cheat Sheet: m=19 MiB, t=2, p=1), with a 16-byte salt and
// a 32-byte hash.
const (
	hashMemoryKiB = 19456
	hashTime      = 2
	hashThreads   = 1
	hashSaltLen   = 16
	hashKeyLen    = 32
)

// Bounds VerifyAPIKey accepts. The lower bounds refuse a hash weaker than the
// one HashAPIKey makes; the upper bounds exist because a PHC string decides how
// much memory and CPU one verification takes, so an absurd one (a typo, or a
// hostile document) must not be able to exhaust the server.
const (
	minMemoryKiB   = hashMemoryKiB
	maxMemoryKiB   = 64 * 1024 // 64 MiB per verification
	minTime        = hashTime
	maxTime        = 8
	maxCost        = 8 * hashMemoryKiB * hashTime // memory×time: at most 8× our own cost
	minThreads     = 1
	maxThreads     = 4
	minSaltLen     = hashSaltLen
	maxSaltLen     = 64
	minKeyLen      = hashKeyLen
	maxKeyLen      = 64
	maxPHCLen      = 256
	maxPlaintext   = 1024 // longer presented keys are rejected before hashing
	argon2idPrefix = "$argon2id$v=19$"
)

// b64 is the PHC string format's base64: standard alphabet, no padding, and
// strict so that each value has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// phc is a parsed argon2id PHC string.
type phc struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// errPHC is the cause of every PHC parsing failure; the message that wraps it
// says which part is wrong, never the value.
var errPHC = errors.New("invalid argon2id PHC string")

// parsePHC parses "$argon2id$v=19$m=<KiB>,t=<n>,p=<n>$<salt>$<hash>" and
// rejects anything else, including parameters outside the bounds above. It
// does no hashing, so hostile input costs only a scan of at most maxPHCLen
// bytes.
func parsePHC(s string) (phc, error) {
	if len(s) > maxPHCLen {
		return phc{}, fmt.Errorf("%w: longer than %d bytes", errPHC, maxPHCLen)
	}
	rest, ok := strings.CutPrefix(s, argon2idPrefix)
	if !ok {
		return phc{}, fmt.Errorf("%w: want prefix %q", errPHC, argon2idPrefix)
	}
	params, rest, ok := strings.Cut(rest, "$")
	if !ok {
		return phc{}, fmt.Errorf("%w: missing salt", errPHC)
	}
	saltB64, keyB64, ok := strings.Cut(rest, "$")
	if !ok {
		return phc{}, fmt.Errorf("%w: missing hash", errPHC)
	}
	var p phc
	if err := p.parseParams(params); err != nil {
		return phc{}, err
	}
	var err error
	if p.salt, err = decodeB64(saltB64, minSaltLen, maxSaltLen); err != nil {
		return phc{}, fmt.Errorf("%w: salt: %w", errPHC, err)
	}
	if p.key, err = decodeB64(keyB64, minKeyLen, maxKeyLen); err != nil {
		return phc{}, fmt.Errorf("%w: hash: %w", errPHC, err)
	}
	return p, nil
}

// parseParams parses "m=<KiB>,t=<n>,p=<n>", in that order as the PHC format
// for argon2 specifies, with no other parameters.
func (p *phc) parseParams(s string) error {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return fmt.Errorf("%w: want parameters m=,t=,p=", errPHC)
	}
	m, err := param(parts[0], "m", minMemoryKiB, maxMemoryKiB)
	if err != nil {
		return err
	}
	t, err := param(parts[1], "t", minTime, maxTime)
	if err != nil {
		return err
	}
	threads, err := param(parts[2], "p", minThreads, maxThreads)
	if err != nil {
		return err
	}
	if m*t > maxCost {
		return fmt.Errorf("%w: m×t above %d", errPHC, maxCost)
	}
	if m < 8*threads {
		return fmt.Errorf("%w: m below 8×p", errPHC)
	}
	p.memory, p.time, p.threads = uint32(m), uint32(t), uint8(threads)
	return nil
}

// param parses "name=<decimal>" within [lo, hi]. Only plain decimal digits
// without leading zeros are accepted, so every value has one spelling.
func param(s, name string, lo, hi uint64) (uint64, error) {
	v, ok := strings.CutPrefix(s, name+"=")
	if !ok {
		return 0, fmt.Errorf("%w: want parameter %s=", errPHC, name)
	}
	if v == "" || len(v) > 10 || (len(v) > 1 && v[0] == '0') || strings.Trim(v, "0123456789") != "" {
		return 0, fmt.Errorf("%w: parameter %s is not a decimal number", errPHC, name)
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: parameter %s: %w", errPHC, name, err)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%w: parameter %s=%d outside [%d, %d]", errPHC, name, n, lo, hi)
	}
	return n, nil
}

func decodeB64(s string, minLen, maxLen int) ([]byte, error) {
	if b64.DecodedLen(len(s)) > maxLen {
		return nil, fmt.Errorf("longer than %d bytes", maxLen)
	}
	// The decoder skips '\r' and '\n'; only the alphabet itself is allowed.
	b, err := b64.DecodeString(s)
	if err != nil || strings.Trim(s, b64Alphabet) != "" {
		return nil, errors.New("not unpadded standard base64")
	}
	if len(b) < minLen {
		return nil, fmt.Errorf("shorter than %d bytes", minLen)
	}
	return b, nil
}

func (p phc) String() string {
	return fmt.Sprintf("%sm=%d,t=%d,p=%d$%s$%s", argon2idPrefix, p.memory, p.time, p.threads,
		b64.EncodeToString(p.salt), b64.EncodeToString(p.key))
}

// HashAPIKey returns the argon2id PHC string of an API key's full plaintext
// (prefix included), with a fresh random salt and the parameters
// m=19456 KiB, t=2, p=1, 32-byte hash. It takes about as long and as much
// memory as one VerifyAPIKey.
func HashAPIKey(plaintext string) (string, error) {
	if plaintext == "" {
		return "", errors.New("hash api key: empty key")
	}
	if len(plaintext) > maxPlaintext {
		return "", fmt.Errorf("hash api key: longer than %d bytes", maxPlaintext)
	}
	salt := make([]byte, hashSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash api key: salt: %w", err)
	}
	p := phc{memory: hashMemoryKiB, time: hashTime, threads: hashThreads, salt: salt}
	p.key = argon2.IDKey([]byte(plaintext), salt, p.time, p.memory, p.threads, hashKeyLen)
	return p.String(), nil
}

// VerifyAPIKey reports whether plaintext matches the argon2id PHC string. The
// comparison is constant time. It returns an error, without hashing, when the
// PHC string is malformed or its parameters are weaker than HashAPIKey's or
// large enough to be a denial of service, and when plaintext is empty or
// longer than 1 KiB.
func VerifyAPIKey(phcString, plaintext string) (bool, error) {
	p, err := parsePHC(phcString)
	if err != nil {
		return false, fmt.Errorf("verify api key: %w", err)
	}
	if plaintext == "" || len(plaintext) > maxPlaintext {
		return false, fmt.Errorf("verify api key: key length %d outside [1, %d]", len(plaintext), maxPlaintext)
	}
	return p.verify(plaintext), nil
}

func (p phc) verify(plaintext string) bool {
	got := argon2.IDKey([]byte(plaintext), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(got, p.key) == 1
}

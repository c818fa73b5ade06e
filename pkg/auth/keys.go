package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

// KeyPrefix starts every API key GenerateAPIKey makes: trg_<id>_<secret>.
const KeyPrefix = "trg_"

// GenerateAPIKey makes a new API key: the plaintext to show its owner once,
// and the APIKey (holding only the argon2id hash) to store. The plaintext is
// trg_<id>_<secret>, where id is 12 hex digits and secret is 26 base32
// characters (128 random bits); the id lets verification find the one hash
// to check. At least one scope is required.
func GenerateAPIKey(name string, scopes []Scope, now time.Time) (plaintext string, key APIKey, err error) {
	key, err = newAPIKey(name, scopes, now)
	if err != nil {
		return "", APIKey{}, fmt.Errorf("generate api key: %w", err)
	}
	idBytes := make([]byte, 6)
	if _, err := rand.Read(idBytes); err != nil {
		return "", APIKey{}, fmt.Errorf("generate api key: %w", err)
	}
	key.ID = hex.EncodeToString(idBytes)
	plaintext = KeyPrefix + key.ID + "_" + rand.Text()
	if key.Hash, err = HashAPIKey(plaintext); err != nil {
		return "", APIKey{}, fmt.Errorf("generate api key: %w", err)
	}
	return plaintext, key, nil
}

// NewLegacyKey hashes an operator-chosen plaintext without the trg_ prefix
// (such as TRIGGERS_API_KEY) into a Legacy key with the given id. The server
// holds it in memory (FileKeyringOptions.StaticKeys); pick a stable id (for
// example "env") so tokens issued from it survive a restart. The plaintext
// must not start with "trg_", since such keys are looked up by their id.
func NewLegacyKey(id, name, plaintext string, scopes []Scope, now time.Time) (APIKey, error) {
	if strings.HasPrefix(plaintext, KeyPrefix) {
		return APIKey{}, fmt.Errorf("legacy key: a plaintext starting with %q is never checked against legacy keys", KeyPrefix)
	}
	if err := validKeyID(id); err != nil {
		return APIKey{}, fmt.Errorf("legacy key: %w", err)
	}
	key, err := newAPIKey(name, scopes, now)
	if err != nil {
		return APIKey{}, fmt.Errorf("legacy key: %w", err)
	}
	key.ID, key.Legacy = id, true
	if key.Hash, err = HashAPIKey(plaintext); err != nil {
		return APIKey{}, fmt.Errorf("legacy key: %w", err)
	}
	return key, nil
}

func newAPIKey(name string, scopes []Scope, now time.Time) (APIKey, error) {
	if strings.TrimSpace(name) == "" {
		return APIKey{}, errors.New("a name is required")
	}
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = string(s)
	}
	parsed, err := ParseScopes(names)
	if err != nil {
		return APIKey{}, err
	}
	if len(parsed) == 0 {
		return APIKey{}, errors.New("at least one scope is required")
	}
	k := APIKey{ID: "x", Name: name, Hash: dummyPHC, Scopes: parsed, CreatedAt: event.Timestamp(now)}
	if err := k.validate(); err != nil {
		return APIKey{}, err
	}
	return k, nil
}

// NewSigningKey makes a JWT signing key: a kid of the form k<yyyymmdd><6
// random characters> and a 52-character secret (260 random bits) whose
// UTF-8 bytes are the HMAC key.
func NewSigningKey(now time.Time) (kid string, secret []byte, err error) {
	kid = "k" + now.UTC().Format("20060102") + strings.ToLower(rand.Text()[:6])
	return kid, []byte(rand.Text() + rand.Text()), nil
}

// NewCredentials returns a document with one fresh, active signing key and
// no API keys.
func NewCredentials(now time.Time) (*Credentials, error) {
	kid, secret, err := NewSigningKey(now)
	if err != nil {
		return nil, fmt.Errorf("new credentials: %w", err)
	}
	return &Credentials{ActiveKID: kid, SigningKeys: map[string][]byte{kid: secret}, APIKeys: []APIKey{}}, nil
}

// splitPresentedKey returns the id of a trg_<id>_<secret> key, and false for
// a key without the prefix (a legacy key). A prefixed key with no valid id
// returns ok true and an empty id, which matches nothing.
func splitPresentedKey(plaintext string) (id string, prefixed bool) {
	rest, ok := strings.CutPrefix(plaintext, KeyPrefix)
	if !ok {
		return "", false
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || secret == "" || validKeyID(id) != nil {
		return "", true
	}
	return id, true
}

package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Credentials is everything Triggers needs to authenticate callers: the JWT
// signing keys (one active, older ones still verifying) and the API keys.
//
// Its JSON form is one flat document shared by the single binary's
// credentials.json and the AWS Secrets Manager secret:
//
//	{
//	  "active_kid": "k20261128a",
//	  "jwt_key_k20261128a": "<HMAC key: this string's UTF-8 bytes, >= 32 bytes>",
//	  "jwt_key_k20261001x": "<an older key, still verifying its tokens>",
//	  "api_keys": [{"id": "9f3c2a1b7d4e", "name": "zapier-prod", "hash": "$argon2id$...",
//	                "scopes": ["events:write"], "created_at": "...", "revoked_at": null, "legacy": false}]
//	}
//
// Signing keys are top-level members so that CloudFormation can generate the
// first one (GenerateSecretString). Members this package does not know are
// kept through a decode/encode round trip, so a CLI rewriting the file never
// drops them; unknown fields inside an API key are an error, because a
// misspelt "revoked_at" must not leave a key silently active.
//
// A *Credentials handed out by a Keyring is shared: treat it as read-only and
// Clone it before changing it. Its String, GoString, Format and LogValue
// methods redact the signing keys and hashes.
type Credentials struct {
	ActiveKID   string
	SigningKeys map[string][]byte // kid -> HMAC key
	APIKeys     []APIKey

	extra map[string]json.RawMessage // unknown top-level members, kept verbatim
}

// APIKey is one API key as stored: never the plaintext, only its argon2id hash.
type APIKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Hash      string     `json:"hash"` // argon2id PHC string of the full plaintext
	Scopes    []Scope    `json:"scopes"`
	CreatedAt time.Time  `json:"created_at,omitzero"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// Legacy marks a key whose plaintext has no trg_<id>_ prefix (such as the
	// operator's TRIGGERS_API_KEY); unprefixed keys are checked against these only.
	Legacy bool `json:"legacy"`
}

// Revoked reports whether the key is revoked at now. A RevokedAt in the
// future schedules the revocation: the key works until then, which gives
// clients a grace period when an operator replaces a key.
func (k APIKey) Revoked(now time.Time) bool {
	return k.RevokedAt != nil && !now.Before(*k.RevokedAt)
}

// UnmarshalJSON decodes one api_keys entry, rejecting unknown fields.
func (k *APIKey) UnmarshalJSON(data []byte) error {
	type plain APIKey // no methods: no recursion
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var v plain
	if err := dec.Decode(&v); err != nil {
		return safeJSONError(err)
	}
	*k = APIKey(v)
	return nil
}

const (
	memberActiveKID = "active_kid"
	memberAPIKeys   = "api_keys"
	signingKeyMark  = "jwt_key_"
	minSigningKey   = 32
	maxSigningKey   = 4096
	maxIDLen        = 64
	maxNameLen      = 200
)

// MarshalJSON encodes the flat document: active_kid, the jwt_key_<kid>
// members in kid order, api_keys, then any members kept from decoding.
func (c Credentials) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	member := func(name string, v any) error {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("credentials: encode %s: %w", name, err)
		}
		n, _ := json.Marshal(name)
		b.Write(n)
		b.WriteByte(':')
		b.Write(enc)
		return nil
	}
	if err := member(memberActiveKID, c.ActiveKID); err != nil {
		return nil, err
	}
	for _, kid := range slices.Sorted(maps.Keys(c.SigningKeys)) {
		if !utf8.Valid(c.SigningKeys[kid]) {
			return nil, fmt.Errorf("credentials: signing key %q is not valid UTF-8", kid)
		}
		if err := member(signingKeyMark+kid, string(c.SigningKeys[kid])); err != nil {
			return nil, err
		}
	}
	keys := c.APIKeys
	if keys == nil {
		keys = []APIKey{}
	}
	if err := member(memberAPIKeys, keys); err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(c.extra)) {
		if err := member(name, c.extra[name]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON decodes the flat document. It checks structure only (one
// JSON object, no duplicate members, members of the right types); Validate
// checks that the result is usable. Its errors never quote the document.
func (c *Credentials) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil {
		return fmt.Errorf("credentials: %w", safeJSONError(err))
	} else if tok != json.Delim('{') {
		return errors.New("credentials: not a JSON object")
	}
	out := Credentials{SigningKeys: map[string][]byte{}}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("credentials: %w", safeJSONError(err))
		}
		name := tok.(string) // object keys are always strings
		if seen[name] {
			return fmt.Errorf("credentials: duplicate member %q", truncate(name, 80))
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("credentials: member %q: %w", truncate(name, 80), safeJSONError(err))
		}
		if err := out.decodeMember(name, raw); err != nil {
			return fmt.Errorf("credentials: member %q: %w", truncate(name, 80), err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return fmt.Errorf("credentials: %w", safeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("credentials: data after the JSON object")
	}
	*c = out
	return nil
}

func (c *Credentials) decodeMember(name string, raw json.RawMessage) error {
	switch {
	case name == memberActiveKID:
		return decodeString(raw, &c.ActiveKID)
	case name == memberAPIKeys:
		if err := json.Unmarshal(raw, &c.APIKeys); err != nil {
			return safeJSONError(err)
		}
		return nil
	case strings.HasPrefix(name, signingKeyMark):
		var s string
		if err := decodeString(raw, &s); err != nil {
			return err
		}
		c.SigningKeys[strings.TrimPrefix(name, signingKeyMark)] = []byte(s)
		return nil
	default:
		if c.extra == nil {
			c.extra = map[string]json.RawMessage{}
		}
		c.extra[name] = raw
		return nil
	}
}

func decodeString(raw json.RawMessage, dst *string) error {
	if err := json.Unmarshal(raw, dst); err != nil {
		return errors.New("want a JSON string")
	}
	return nil
}

// safeJSONError drops what encoding/json's errors can quote from the input
// (a syntax error names the offending character, which may belong to a
// secret), keeping only the position or field.
func safeJSONError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("invalid JSON at byte offset %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Errorf("field %q: JSON %s where %s was expected", typ.Field, typ.Value, typ.Type)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errors.New("truncated JSON")
	default:
		return err
	}
}

// ParseCredentials decodes and validates a credentials document. Its errors
// describe what is wrong without quoting secrets.
func ParseCredentials(data []byte) (*Credentials, error) {
	c := new(Credentials)
	if err := json.Unmarshal(data, c); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate reports why the credentials cannot be used: no active kid, an
// active kid without a signing key, a kid or API key id with characters
// outside [A-Za-z0-9._-] (ids also exclude '.' and '_'), a signing key
// shorter than 32 bytes, a duplicate API key id, an unknown scope, or a hash
// that VerifyAPIKey would reject.
func (c *Credentials) Validate() error {
	if c.ActiveKID == "" {
		return errors.New("credentials: no active_kid")
	}
	if _, ok := c.SigningKeys[c.ActiveKID]; !ok {
		return fmt.Errorf("credentials: active_kid %q has no %s%s member", truncate(c.ActiveKID, 80), signingKeyMark, truncate(c.ActiveKID, 80))
	}
	for kid, key := range c.SigningKeys {
		if err := validKID(kid); err != nil {
			return fmt.Errorf("credentials: %w", err)
		}
		if len(key) < minSigningKey || len(key) > maxSigningKey {
			return fmt.Errorf("credentials: signing key %q is %d bytes, want %d to %d", kid, len(key), minSigningKey, maxSigningKey)
		}
		if !utf8.Valid(key) {
			return fmt.Errorf("credentials: signing key %q is not valid UTF-8", kid)
		}
	}
	ids := make(map[string]bool, len(c.APIKeys))
	for i, k := range c.APIKeys {
		if err := k.validate(); err != nil {
			return fmt.Errorf("credentials: api_keys[%d]: %w", i, err)
		}
		if ids[k.ID] {
			return fmt.Errorf("credentials: api_keys[%d]: duplicate id %q", i, k.ID)
		}
		ids[k.ID] = true
	}
	return nil
}

func (k APIKey) validate() error {
	if err := validKeyID(k.ID); err != nil {
		return err
	}
	if utf8.RuneCountInString(k.Name) > maxNameLen || !utf8.ValidString(k.Name) ||
		strings.IndexFunc(k.Name, unicode.IsControl) >= 0 {
		return fmt.Errorf("key %q: name must be at most %d printable characters", k.ID, maxNameLen)
	}
	if _, err := parsePHC(k.Hash); err != nil {
		return fmt.Errorf("key %q: hash: %w", k.ID, err)
	}
	seen := map[Scope]bool{}
	for _, s := range k.Scopes {
		if !s.Known() {
			return fmt.Errorf("key %q: unknown scope %q", k.ID, truncate(string(s), 40))
		}
		if seen[s] {
			return fmt.Errorf("key %q: duplicate scope %q", k.ID, s)
		}
		seen[s] = true
	}
	return nil
}

// validKID accepts signing key ids of 1–64 characters from [A-Za-z0-9._-].
func validKID(kid string) error {
	if !validChars(kid, "._-") {
		return fmt.Errorf("kid %q: want 1 to %d characters from [A-Za-z0-9._-]", truncate(kid, 80), maxIDLen)
	}
	return nil
}

// validKeyID accepts API key ids of 1–64 characters from [A-Za-z0-9-]. An
// underscore would make trg_<id>_<secret> ambiguous.
func validKeyID(id string) error {
	if !validChars(id, "-") {
		return fmt.Errorf("id %q: want 1 to %d characters from [A-Za-z0-9-]", truncate(id, 80), maxIDLen)
	}
	return nil
}

func validChars(s, extra string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte(extra, c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// Clone returns a deep copy, for read-modify-write.
func (c *Credentials) Clone() *Credentials {
	out := &Credentials{
		ActiveKID:   c.ActiveKID,
		SigningKeys: make(map[string][]byte, len(c.SigningKeys)),
		APIKeys:     make([]APIKey, len(c.APIKeys)),
	}
	for kid, key := range c.SigningKeys {
		out.SigningKeys[kid] = slices.Clone(key)
	}
	for i, k := range c.APIKeys {
		k.Scopes = slices.Clone(k.Scopes)
		if k.RevokedAt != nil {
			t := *k.RevokedAt
			k.RevokedAt = &t
		}
		out.APIKeys[i] = k
	}
	if c.extra != nil {
		out.extra = make(map[string]json.RawMessage, len(c.extra))
		for name, raw := range c.extra {
			out.extra[name] = slices.Clone(raw)
		}
	}
	return out
}

// FindAPIKey returns the API key with the given id.
func (c *Credentials) FindAPIKey(id string) (APIKey, bool) {
	i := slices.IndexFunc(c.APIKeys, func(k APIKey) bool { return k.ID == id })
	if i < 0 {
		return APIKey{}, false
	}
	return c.APIKeys[i], true
}

// AddAPIKey appends k, refusing an id already present.
func (c *Credentials) AddAPIKey(k APIKey) error {
	if _, ok := c.FindAPIKey(k.ID); ok {
		return fmt.Errorf("api key %q already exists", k.ID)
	}
	c.APIKeys = append(c.APIKeys, k)
	return nil
}

// RevokeAPIKey marks the key revoked at now. Revoking a revoked key keeps
// its original revocation time. Tokens issued from the key stop authorizing
// as soon as a Keyring serves the changed document.
func (c *Credentials) RevokeAPIKey(id string, now time.Time) error {
	i := slices.IndexFunc(c.APIKeys, func(k APIKey) bool { return k.ID == id })
	if i < 0 {
		return fmt.Errorf("api key %q not found", truncate(id, 80))
	}
	if c.APIKeys[i].Revoked(now) {
		return nil
	}
	t := now.UTC().Truncate(time.Second)
	c.APIKeys[i].RevokedAt = &t
	return nil
}

// RotateSigningKey adds a fresh signing key and makes it active. Older keys
// stay, so the tokens they signed keep verifying until RemoveSigningKey.
func (c *Credentials) RotateSigningKey(now time.Time) (kid string, err error) {
	kid, secret, err := NewSigningKey(now)
	if err != nil {
		return "", err
	}
	if _, ok := c.SigningKeys[kid]; ok {
		return "", fmt.Errorf("rotate signing key: kid %q already exists", kid)
	}
	if c.SigningKeys == nil {
		c.SigningKeys = map[string][]byte{}
	}
	c.SigningKeys[kid] = secret
	c.ActiveKID = kid
	return kid, nil
}

// RemoveSigningKey deletes a signing key that is not the active one; every
// token it signed stops verifying.
func (c *Credentials) RemoveSigningKey(kid string) error {
	if kid == c.ActiveKID {
		return fmt.Errorf("signing key %q is active; rotate first", kid)
	}
	if _, ok := c.SigningKeys[kid]; !ok {
		return fmt.Errorf("signing key %q not found", truncate(kid, 80))
	}
	delete(c.SigningKeys, kid)
	return nil
}

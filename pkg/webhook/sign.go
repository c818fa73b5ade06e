package webhook

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/triggershq/triggers/pkg/event"
)

// The Standard Webhooks headers.
const (
	HeaderID        = standardwebhooks.HeaderWebhookID        // "webhook-id": the delivery id, the same on every retry
	HeaderTimestamp = standardwebhooks.HeaderWebhookTimestamp // "webhook-timestamp": Unix seconds of this attempt
	HeaderSignature = standardwebhooks.HeaderWebhookSignature // "webhook-signature": "v1,<base64 HMAC-SHA256>"
)

// DefaultTolerance is how far a webhook-timestamp may be from the receiver's
// clock, either way, before Verify refuses it (the specification's advice):
// it bounds how long a captured request can be replayed.
const DefaultTolerance = 5 * time.Minute

// Key sizes a secret may decode to, as the Standard Webhooks specification
// recommends. Triggers issues 32-byte keys (event.NewSecret).
const (
	minKeyBytes = 24
	maxKeyBytes = 64
)

// Errors Verify reports (inside an *event.Error), for errors.Is.
var (
	ErrInvalidSecret  = errors.New("webhook secret is not whsec_ followed by base64 of 24 to 64 bytes")
	ErrMissingHeaders = errors.New("missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrTimestamp      = errors.New("webhook-timestamp is malformed or outside the tolerance")
	ErrSignature      = errors.New("no webhook-signature matches")
)

// Body returns the JSON body POSTed for an event:
// {"id","type","source","payload","created_at"}. The payload is copied byte
// for byte as stored, never decoded and re-encoded, so numbers and key order
// reach the receiver exactly as the producer sent them.
func Body(e event.Event) ([]byte, error) {
	if !json.Valid(e.Payload) {
		return nil, errors.New("event payload is not valid JSON")
	}
	strs := make([][]byte, 0, 4)
	for _, s := range []string{e.ID, e.Type, e.Source, e.CreatedAt.UTC().Format(time.RFC3339Nano)} {
		b, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		strs = append(strs, b)
	}
	out := make([]byte, 0, len(e.Payload)+len(e.Type)+len(e.Source)+128)
	out = append(out, `{"id":`...)
	out = append(out, strs[0]...)
	out = append(out, `,"type":`...)
	out = append(out, strs[1]...)
	out = append(out, `,"source":`...)
	out = append(out, strs[2]...)
	out = append(out, `,"payload":`...)
	out = append(out, e.Payload...)
	out = append(out, `,"created_at":`...)
	out = append(out, strs[3]...)
	return append(out, '}'), nil
}

// Sign returns the webhook-signature header value for one message:
// "v1," and the standard base64 of HMAC-SHA256, keyed by the bytes the
// secret's base64 part decodes to, over "<id>.<unix seconds>.<body>".
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	wh, err := webhookFor(secret)
	if err != nil {
		return "", err
	}
	return wh.Sign(id, ts, body)
}

// Verify checks a received webhook against the subscription's secret, with
// the timestamp within tolerance of the current time (DefaultTolerance when
// tolerance is zero or less). It is what a receiver calls before trusting a
// body; see VerifyAt.
func Verify(secret string, headers http.Header, body []byte, tolerance time.Duration) error {
	return VerifyAt(secret, headers, body, tolerance, time.Now())
}

// VerifyAt is Verify with the receiver's clock given. It returns nil, a
// CodeUnauthorized *event.Error wrapping ErrMissingHeaders, ErrTimestamp or
// ErrSignature, or a CodeInvalid one (Field "secret") wrapping
// ErrInvalidSecret. Several space-separated signatures are accepted (the
// sender may be rotating secrets); one matching v1 signature is enough.
func VerifyAt(secret string, headers http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	wh, err := webhookFor(secret)
	if err != nil {
		return err
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	id, ts, sig := headers.Get(HeaderID), headers.Get(HeaderTimestamp), headers.Get(HeaderSignature)
	if id == "" || ts == "" || sig == "" {
		return unauthorized(ErrMissingHeaders)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return unauthorized(ErrTimestamp)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return unauthorized(ErrTimestamp)
	}
	// The library checks the timestamp against its own clock and a fixed
	// tolerance; we checked it above with ours, so only the signature is
	// left to it (a constant-time comparison of every v1 signature).
	if err := wh.VerifyIgnoringTimestamp(body, headers); err != nil {
		return unauthorized(ErrSignature)
	}
	return nil
}

func unauthorized(cause error) error {
	return &event.Error{Code: event.CodeUnauthorized, Message: "webhook signature verification failed: " + cause.Error(), Err: cause}
}

// webhookFor validates a secret and returns the library's signer for it.
// The library would accept any base64, even an empty key, so the length is
// checked here.
func webhookFor(secret string) (*standardwebhooks.Webhook, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, event.SecretPrefix))
	if err != nil || len(key) < minKeyBytes || len(key) > maxKeyBytes {
		return nil, &event.Error{Code: event.CodeInvalid, Field: "secret", Message: ErrInvalidSecret.Error(), Err: ErrInvalidSecret}
	}
	return standardwebhooks.NewWebhookRaw(key)
}

package testenv

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// VerifyWebhookSignature is a receiver's Standard Webhooks signature check
// written from the specification with crypto/hmac alone, so that tests of
// pkg/webhook, and of everything that sends through it, have a verdict
// independent of that package and the library it uses. The secret is
// "whsec_" and the base64 of the key; webhook-signature holds
// space-separated "v1,<base64 HMAC-SHA256 of id.timestamp.body>" values,
// one of which must match. It does not judge webhook-timestamp's age:
// tests with a manual clock send old timestamps on purpose.
func VerifyWebhookSignature(secret string, h http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	if len(key) == 0 {
		return errors.New("secret: empty key")
	}
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(sigs) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("no signature in %q matches", sigs)
}

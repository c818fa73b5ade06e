package testenv_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/triggershq/triggers/internal/testenv"
)

func TestVerifyWebhookSignature(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef")
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	body := []byte(`{"id":"1"}`)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("msg_1.1764324000."))
	mac.Write(body)
	good := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	header := func(sig string) http.Header {
		h := http.Header{}
		h.Set("webhook-id", "msg_1")
		h.Set("webhook-timestamp", "1764324000")
		h.Set("webhook-signature", sig)
		return h
	}
	if err := testenv.VerifyWebhookSignature(secret, header("v1,bm9wZQ== "+good), body); err != nil {
		t.Errorf("a matching signature among others: got %v, want nil", err)
	}
	for name, c := range map[string]struct {
		secret string
		h      http.Header
		body   string
	}{
		"tampered body":  {secret, header(good), `{"id":"2"}`},
		"other secret":   {"whsec_" + base64.StdEncoding.EncodeToString([]byte("another key of thirty-two bytes!")), header(good), string(body)},
		"no signature":   {secret, header(""), string(body)},
		"bad secret":     {"whsec_!!", header(good), string(body)},
		"other id in h":  {secret, func() http.Header { h := header(good); h.Set("webhook-id", "msg_2"); return h }(), string(body)},
		"v1 prefix only": {secret, header("v1,"), string(body)},
	} {
		if err := testenv.VerifyWebhookSignature(c.secret, c.h, []byte(c.body)); err == nil {
			t.Errorf("%s: got nil, want an error", name)
		}
	}
}

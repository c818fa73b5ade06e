package client_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/client"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/webhook"
)

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	secret := event.NewSecret()
	created := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	stored := event.Event{ID: someID, Type: "order.created", Source: "shop", Payload: []byte(`{"total":19.90,"big":123456789012345678901}`), CreatedAt: created}
	body, err := webhook.Body(stored)
	if err != nil {
		t.Fatal(err)
	}
	signed := func(secret string, at time.Time, body []byte) http.Header {
		sig, err := webhook.Sign(secret, "msg_1", at, body)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set(webhook.HeaderID, "msg_1")
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
		h.Set(webhook.HeaderSignature, sig)
		return h
	}

	e, err := client.VerifyWebhook(secret, signed(secret, time.Now(), body), body)
	if err != nil {
		t.Fatalf("VerifyWebhook: %v", err)
	}
	raw, _ := e.RawPayload()
	if e.ID != someID || e.Type != "order.created" || e.Source != "shop" || !e.CreatedAt.Equal(created) || string(raw) != string(stored.Payload) {
		t.Errorf("event: got %+v payload %s", e, raw)
	}

	tampered := append([]byte(nil), body...)
	tampered[len(tampered)-3] = '1'
	cases := []struct {
		name    string
		secret  string
		headers http.Header
		body    []byte
		cause   error
	}{
		{"tampered body", secret, signed(secret, time.Now(), body), tampered, webhook.ErrSignature},
		{"other secret", secret, signed(event.NewSecret(), time.Now(), body), body, webhook.ErrSignature},
		{"replayed later", secret, signed(secret, time.Now().Add(-10*time.Minute), body), body, webhook.ErrTimestamp},
		{"no headers", secret, http.Header{}, body, webhook.ErrMissingHeaders},
		{"malformed secret", "whsec_short", signed(secret, time.Now(), body), body, webhook.ErrInvalidSecret},
		{"signed non-event", secret, signed(secret, time.Now(), []byte(`{"a":1}`)), []byte(`{"a":1}`), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := client.VerifyWebhook(tc.secret, tc.headers, tc.body)
			if !errors.Is(err, client.ErrInvalidWebhook) {
				t.Fatalf("err: got %v, want ErrInvalidWebhook", err)
			}
			if tc.cause != nil && !errors.Is(err, tc.cause) {
				t.Errorf("err: got %v, want it to wrap %v", err, tc.cause)
			}
		})
	}
}

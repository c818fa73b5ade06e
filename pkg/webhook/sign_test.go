package webhook_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/webhook"
)

// docExample reads the worked example in docs/webhooks.md.
func docExample(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/webhooks.md")
	if err != nil {
		t.Fatalf("read the docs: %v", err)
	}
	_, rest, ok := bytes.Cut(doc, []byte("<!-- signature-example:begin -->"))
	block, _, ok2 := bytes.Cut(rest, []byte("<!-- signature-example:end -->"))
	if !ok || !ok2 {
		t.Fatal("docs/webhooks.md has no signature-example block")
	}
	fields := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(block))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	for _, k := range []string{"secret", "webhook-id", "webhook-timestamp", "body", "webhook-signature"} {
		if fields[k] == "" {
			t.Fatalf("docs example lacks %s", k)
		}
	}
	return fields
}

func TestDocumentedExample(t *testing.T) {
	t.Parallel()
	ex := docExample(t)
	sec, err := strconv.ParseInt(ex["webhook-timestamp"], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(sec, 0)
	body := []byte(ex["body"])

	got, err := webhook.Sign(ex["secret"], ex["webhook-id"], ts, body)
	if err != nil || got != ex["webhook-signature"] {
		t.Fatalf("Sign: got %q, %v, want %q", got, err, ex["webhook-signature"])
	}
	h := http.Header{}
	h.Set("webhook-id", ex["webhook-id"])
	h.Set("webhook-timestamp", ex["webhook-timestamp"])
	h.Set("webhook-signature", ex["webhook-signature"])
	if err := verifyByHand(ex["secret"], h, body, ts); err != nil {
		t.Fatalf("independent HMAC: got %v, want the documented signature to verify", err)
	}
	if err := webhook.VerifyAt(ex["secret"], h, body, 0, ts.Add(time.Minute)); err != nil {
		t.Fatalf("VerifyAt: got %v, want nil", err)
	}

	// The body is what Body makes of the event it describes.
	var doc struct {
		ID, Type, Source string
		Payload          json.RawMessage
		CreatedAt        time.Time `json:"created_at"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := webhook.Body(event.Event{ID: doc.ID, Type: doc.Type, Source: doc.Source, Payload: doc.Payload, CreatedAt: doc.CreatedAt})
	if err != nil || string(rebuilt) != ex["body"] {
		t.Fatalf("Body: got %s, %v, want %s", rebuilt, err, body)
	}
	// And the id is the delivery id format.
	if !strings.HasPrefix(ex["webhook-id"], "msg_") || len(ex["webhook-id"]) != len(event.DeliveryID("a", "b")) {
		t.Fatalf("got webhook-id %q, want a DeliveryID", ex["webhook-id"])
	}
}

func TestBodyIsByteExact(t *testing.T) {
	t.Parallel()
	e := testEvent()
	b, err := webhook.Body(e)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, append(append([]byte(`"payload":`), e.Payload...), ',')) {
		t.Fatalf("got %s, want the payload bytes %s unchanged", b, e.Payload)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("got invalid JSON %s: %v", b, err)
	}
	want := map[string]string{
		"id":         `"` + e.ID + `"`,
		"type":       `"order.created"`,
		"created_at": `"2026-11-28T10:00:00.123456Z"`,
	}
	for k, v := range want {
		if string(got[k]) != v {
			t.Errorf("%s: got %s, want %s", k, got[k], v)
		}
	}
	var source string
	if err := json.Unmarshal(got["source"], &source); err != nil || source != e.Source {
		t.Errorf("source: got %q, want %q", source, e.Source)
	}
	if len(got) != 5 {
		t.Errorf("got members %v, want exactly id, type, source, payload, created_at", got)
	}

	e.Payload = []byte(`{"broken":`)
	if _, err := webhook.Body(e); err == nil {
		t.Fatal("got nil error for an invalid payload, want one")
	}
}

func TestSignAgreesWithIndependentHMACAndLibrary(t *testing.T) {
	t.Parallel()
	for range 20 {
		secret := event.NewSecret()
		body, _ := webhook.Body(testEvent())
		id := event.DeliveryID("e", secret[:10])
		now := time.Now()
		sig, err := webhook.Sign(secret, id, now, body)
		if err != nil {
			t.Fatal(err)
		}
		h := signedHeader(id, now, sig)
		if err := verifyByHand(secret, h, body, now); err != nil {
			t.Fatalf("independent: got %v, want nil", err)
		}
		lib, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := lib.Verify(body, h); err != nil {
			t.Fatalf("library: got %v, want nil", err)
		}
	}
}

func signedHeader(id string, ts time.Time, sig string) http.Header {
	h := http.Header{}
	h.Set(webhook.HeaderID, id)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(webhook.HeaderSignature, sig)
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	secret := event.NewSecret()
	other := event.NewSecret()
	body := []byte(`{"id":"x"}`)
	now := time.Unix(1795860001, 0)
	good, err := webhook.Sign(secret, "msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	otherSig, _ := webhook.Sign(other, "msg_1", now, body)

	tests := []struct {
		name    string
		secret  string
		header  http.Header
		body    []byte
		at      time.Time
		tol     time.Duration
		wantErr error // nil: verifies
	}{
		{"good", secret, signedHeader("msg_1", now, good), body, now, 0, nil},
		{"secret without prefix", strings.TrimPrefix(secret, "whsec_"), signedHeader("msg_1", now, good), body, now, 0, nil},
		{"rotation: second signature matches", secret, signedHeader("msg_1", now, otherSig+" "+good), body, now, 0, nil},
		{"4 min late", secret, signedHeader("msg_1", now, good), body, now.Add(4 * time.Minute), 0, nil},
		{"6 min late", secret, signedHeader("msg_1", now, good), body, now.Add(6 * time.Minute), 0, webhook.ErrTimestamp},
		{"6 min early", secret, signedHeader("msg_1", now, good), body, now.Add(-6 * time.Minute), 0, webhook.ErrTimestamp},
		{"custom tolerance", secret, signedHeader("msg_1", now, good), body, now.Add(time.Hour), 2 * time.Hour, nil},
		{"tampered body", secret, signedHeader("msg_1", now, good), []byte(`{"id":"y"}`), now, 0, webhook.ErrSignature},
		{"other id", secret, signedHeader("msg_2", now, good), body, now, 0, webhook.ErrSignature},
		{"other secret", other, signedHeader("msg_1", now, good), body, now, 0, webhook.ErrSignature},
		{"v2 only", secret, signedHeader("msg_1", now, strings.Replace(good, "v1,", "v2,", 1)), body, now, 0, webhook.ErrSignature},
		{"bare base64", secret, signedHeader("msg_1", now, strings.TrimPrefix(good, "v1,")), body, now, 0, webhook.ErrSignature},
		{"missing", secret, http.Header{}, body, now, 0, webhook.ErrMissingHeaders},
		{"bad timestamp", secret, http.Header{"Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {"soon"}, "Webhook-Signature": {good}}, body, now, 0, webhook.ErrTimestamp},
		{"short secret", "whsec_" + base64.StdEncoding.EncodeToString([]byte("short")), signedHeader("msg_1", now, good), body, now, 0, webhook.ErrInvalidSecret},
		{"not base64", "whsec_!!!", signedHeader("msg_1", now, good), body, now, 0, webhook.ErrInvalidSecret},
		{"empty secret", "", signedHeader("msg_1", now, good), body, now, 0, webhook.ErrInvalidSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := webhook.VerifyAt(tt.secret, tt.header, tt.body, tt.tol, tt.at)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			wantCode := event.CodeUnauthorized
			if tt.wantErr == webhook.ErrInvalidSecret {
				wantCode = event.CodeInvalid
			}
			if event.ErrorCode(err) != wantCode {
				t.Fatalf("got code %v, want %v", event.ErrorCode(err), wantCode)
			}
			if strings.Contains(err.Error(), strings.TrimPrefix(tt.secret, "whsec_")) && tt.secret != "" {
				t.Fatalf("got %v, which contains the secret", err)
			}
		})
	}
	t.Run("Verify uses the wall clock", func(t *testing.T) {
		t.Parallel()
		now := time.Now()
		sig, _ := webhook.Sign(secret, "msg_1", now, body)
		if err := webhook.Verify(secret, signedHeader("msg_1", now, sig), body, time.Minute); err != nil {
			t.Fatalf("got %v, want nil", err)
		}
	})
}

func TestSignRefusesBadSecrets(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "whsec_", "whsec_c2hvcnQ=", "whsec_%%%", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65))} {
		if _, err := webhook.Sign(s, "msg_1", time.Now(), []byte("{}")); !errors.Is(err, webhook.ErrInvalidSecret) {
			t.Errorf("%q: got %v, want ErrInvalidSecret", s, err)
		}
	}
}

package client_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/triggershq/triggers/pkg/client"
)

// TestPayloadsRoundTrip sends payloads of every accepted Go form through
// the real API and reads them back: raw JSON byte for byte, Go values
// without HTML escaping.
func TestPayloadsRoundTrip(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serverOptions{})
	c, err := client.New(srv.URL, srv.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		payload any
		want    string
	}{
		{"raw message", json.RawMessage(`{"z":1,"a":1.000000000000000000001,"s":"\u00e9\n<>&","n":null}`), `{"z":1,"a":1.000000000000000000001,"s":"\u00e9\n<>&","n":null}`},
		{"raw bytes", []byte(`{"big":123456789012345678901234567890}`), `{"big":123456789012345678901234567890}`},
		{"struct", struct {
			Note string `json:"note"`
			N    int    `json:"n"`
		}{"<b>&", 7}, `{"note":"<b>&","n":7}`},
		{"map", map[string]any{"b": []int{1, 2}, "a": true}, `{"a":true,"b":[1,2]}`},
		{"nil", nil, `{}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			created, err := c.Send(t.Context(), client.Event{Type: "payload.test", Source: "sdk", Payload: tc.payload})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			got, err := c.Get(t.Context(), created.ID)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			raw, err := got.RawPayload()
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != tc.want {
				t.Errorf("payload: got %s, want %s", raw, tc.want)
			}
			if got.Type != "payload.test" || got.Source != "sdk" || got.Status != client.StatusPending || got.CreatedAt.IsZero() {
				t.Errorf("event: got %+v", got)
			}
			// An event read back can be sent again as it is.
			again, err := c.Send(t.Context(), got)
			if err != nil {
				t.Fatalf("resend: %v", err)
			}
			back, _ := c.Get(t.Context(), again.ID)
			if raw2, _ := back.RawPayload(); string(raw2) != tc.want {
				t.Errorf("resent payload: got %s, want %s", raw2, tc.want)
			}
		})
	}
}

// TestBadPayloadsFailLocally: a payload that is not JSON never leaves.
func TestBadPayloadsFailLocally(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) { created(w, someID) })
	c := newTestClient(t, srv.URL, newFakeClock())
	for _, p := range []any{json.RawMessage(`{"a":`), []byte("not json"), func() {}, make(chan int)} {
		if _, err := c.Send(t.Context(), client.Event{Type: "a", Source: "b", Payload: p}); err == nil {
			t.Errorf("payload %T: want an error", p)
		}
	}
	if n := len(f.seen()); n != 0 || f.tokens() != 0 {
		t.Errorf("bad payloads made %d requests and %d token fetches, want none", n, f.tokens())
	}
}

// TestServerValidationIsTyped: what the server refuses comes back with its
// field errors.
func TestServerValidationIsTyped(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serverOptions{})
	c, err := client.New(srv.URL, srv.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(t.Context(), client.Event{Type: "", Source: "s", Payload: []int{1}})
	var e *client.Error
	if !client.IsValidation(err) || !errors.As(err, &e) || len(e.Errors) != 2 || e.RequestID == "" {
		t.Fatalf("err: got %#v, want a 422 naming type and payload with a request id", err)
	}
	locs := []string{strings.Join(e.Errors[0].Loc, "."), strings.Join(e.Errors[1].Loc, ".")}
	if locs[0] != "body.type" || locs[1] != "body.payload" {
		t.Errorf("field errors: got %v, want [body.type body.payload]", locs)
	}

	first, err := c.Send(t.Context(), client.Event{Type: "a", Source: "b", Payload: map[string]int{"v": 1}}, client.WithIdempotencyKey("k-1"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Replayed {
		t.Error("first send reported as replayed")
	}
	_, err = c.Send(t.Context(), client.Event{Type: "a", Source: "b", Payload: map[string]int{"v": 2}}, client.WithIdempotencyKey("k-1"))
	if !client.IsConflict(err) {
		t.Errorf("same key, other event: got %v, want an idempotency conflict", err)
	}
	if _, err := c.Get(t.Context(), "not-an-id"); !client.IsNotFound(err) {
		t.Errorf("Get(malformed id): got %v, want not found", err)
	}
	if _, err := c.Inbox(t.Context(), client.InboxQuery{Limit: 1000}); !client.IsValidation(err) {
		t.Errorf("Inbox(limit 1000): got %v, want a validation error", err)
	}
}

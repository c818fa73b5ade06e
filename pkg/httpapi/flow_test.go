package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

// The whole life of an event over the API, with the token from POST /token.
func TestFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)

	res := e.do(req{method: "POST", target: "/token", header: hdr("Content-Type", "application/x-www-form-urlencoded"),
		body: url.Values{"username": {"api"}, "password": {e.auth.plain[keyFull]}}.Encode()})
	res.wantStatus(t, http.StatusOK)
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in,string"`
	}
	res.json(t, &tok)
	if tok.AccessToken == "" || tok.TokenType != "bearer" || tok.ExpiresIn != 86400 {
		t.Fatalf("token response: got %+v, want a bearer token for 86400s", tok)
	}
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("token Cache-Control: got %q, want no-store", got)
	}

	res = e.do(req{method: "POST", target: "/events", token: tok.AccessToken, header: jsonCT,
		body: `{"type":"user.created","source":"web-app","payload":{"user_id":"12345","n":1.10}}`})
	res.wantStatus(t, http.StatusCreated)
	var c created
	res.json(t, &c)
	if c.Status != "pending" || c.Timestamp != "2026-11-28T10:00:00Z" {
		t.Errorf("created: got %+v, want pending at the clock's time", c)
	}
	if _, err := event.ParseID(c.ID); err != nil {
		t.Errorf("created id %q is not an event id: %v", c.ID, err)
	}
	if got := res.Header.Get("Location"); got != "/events/"+c.ID {
		t.Errorf("Location: got %q, want /events/%s", got, c.ID)
	}
	if got := res.Header.Get("Idempotent-Replayed"); got != "" {
		t.Errorf("Idempotent-Replayed on a first create: got %q, want none", got)
	}

	res = e.do(req{method: "GET", target: "/events/" + c.ID, token: tok.AccessToken})
	res.wantStatus(t, http.StatusOK)
	var got eventJSON
	res.json(t, &got)
	want := eventJSON{ID: c.ID, Type: "user.created", Source: "web-app", Payload: []byte(`{"user_id":"12345","n":1.10}`),
		Status: "pending", CreatedAt: "2026-11-28T10:00:00Z", UpdatedAt: "2026-11-28T10:00:00Z"}
	if !eventEqual(got, want) {
		t.Errorf("GET event: got %+v, want %+v", got, want)
	}

	var inbox []eventJSON
	res = e.do(req{method: "GET", target: "/inbox", token: tok.AccessToken})
	res.wantStatus(t, http.StatusOK)
	res.json(t, &inbox)
	if len(inbox) != 1 || !eventEqual(inbox[0], want) {
		t.Errorf("inbox: got %+v, want [%+v]", inbox, want)
	}
	if res.Header.Get("Link") != "" || res.Header.Get("X-Next-Cursor") != "" {
		t.Errorf("inbox at its end: got Link %q, X-Next-Cursor %q, want none", res.Header.Get("Link"), res.Header.Get("X-Next-Cursor"))
	}

	e.clock.Advance(time.Minute)
	for i := range 2 { // a repeated ack answers the same
		res = e.do(req{method: "POST", target: "/inbox/" + c.ID + "/ack", token: tok.AccessToken})
		res.wantStatus(t, http.StatusOK)
		var acked eventJSON
		res.json(t, &acked)
		wantAck := want
		wantAck.Status, wantAck.UpdatedAt = "delivered", "2026-11-28T10:01:00Z"
		if !eventEqual(acked, wantAck) {
			t.Errorf("ack #%d: got %+v, want %+v", i+1, acked, wantAck)
		}
		e.clock.Advance(time.Minute) // a repeat keeps the first ack's time
	}

	res = e.do(req{method: "GET", target: "/inbox", token: tok.AccessToken})
	res.wantStatus(t, http.StatusOK)
	if body := strings.TrimSpace(string(res.Body)); body != "[]" {
		t.Errorf("inbox after ack: got %s, want []", body)
	}
	res = e.do(req{method: "GET", target: "/events/" + c.ID, token: tok.AccessToken})
	res.wantStatus(t, http.StatusOK)
	res.json(t, &got)
	if got.Status != "delivered" {
		t.Errorf("event after ack: got status %q, want delivered", got.Status)
	}
	for _, h := range []string{"X-Content-Type-Options", "Cache-Control", "X-Request-Id"} {
		if res.Header.Get(h) == "" {
			t.Errorf("response lacks %s", h)
		}
	}
}

func eventEqual(a, b eventJSON) bool {
	return a.ID == b.ID && a.Type == b.Type && a.Source == b.Source && string(a.Payload) == string(b.Payload) &&
		a.Status == b.Status && a.CreatedAt == b.CreatedAt && a.UpdatedAt == b.UpdatedAt
}

// Expired events are gone from every route.
func TestExpiredEventIsNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	id := e.createEvent(e.token(keyFull), "a", "b", `{}`)
	e.clock.Advance(event.DefaultRetention)
	// Tokens expire long before events; issue a fresh one at the new time.
	tok := e.issue(keyFull)
	for _, r := range []req{
		{method: "GET", target: "/events/" + id},
		{method: "POST", target: "/inbox/" + id + "/ack"},
	} {
		r.token = tok
		res := e.do(r)
		res.wantStatus(t, http.StatusNotFound)
		if p := res.problem(t); p.Code != event.CodeNotFound {
			t.Errorf("%s %s: code got %q, want not_found", r.method, r.target, p.Code)
		}
	}
	res := e.do(req{method: "GET", target: "/inbox", token: tok})
	if body := strings.TrimSpace(string(res.Body)); body != "[]" {
		t.Errorf("inbox after expiry: got %s, want []", body)
	}
}

package client_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestSubscriptionRequests checks the REST-hook calls against the contract
// of issue #4 at the request level. The server routes do not exist yet;
// the end-to-end test against the real binary comes with them.
func TestSubscriptionRequests(t *testing.T) {
	t.Parallel()
	var got []string
	f, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path)
		sub := `{"id":"` + someID + `","target_url":"https://hooks.example/x","event_types":["order.*"],"status":"active","created_at":"2026-11-28T10:00:00Z","updated_at":"2026-11-28T10:00:00Z"}`
		switch {
		case r.Method == "POST":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, strings.Replace(sub, `"status"`, `"secret":"whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0","status"`, 1))
		case r.Method == "GET" && r.URL.Path == "/subscriptions":
			fmt.Fprint(w, "["+sub+"]")
		case r.Method == "GET":
			fmt.Fprint(w, sub)
		case r.Method == "DELETE":
			w.WriteHeader(http.StatusNoContent)
		}
	})
	c := newTestClient(t, srv.URL, newFakeClock())
	ctx := t.Context()

	s, err := c.Subscribe(ctx, "https://hooks.example/x", []string{"order.*"})
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != someID || s.Secret == "" || s.Status != "active" || len(s.EventTypes) != 1 {
		t.Errorf("Subscribe: got %+v", s)
	}
	if strings.Contains(s.String(), s.Secret) || strings.Contains(fmt.Sprintf("%v %+v", s, s), s.Secret) {
		t.Errorf("the subscription's string form shows its secret")
	}
	var body struct {
		TargetURL  string   `json:"target_url"`
		EventTypes []string `json:"event_types"`
	}
	if err := json.Unmarshal(f.seen()[0].body, &body); err != nil || body.TargetURL != "https://hooks.example/x" || len(body.EventTypes) != 1 {
		t.Errorf("POST /subscriptions body: got %s", f.seen()[0].body)
	}
	if _, err := c.Subscribe(ctx, "https://hooks.example/x", nil); err != nil {
		t.Fatal(err)
	}
	if b := string(f.seen()[1].body); !strings.Contains(b, `"event_types":[]`) {
		t.Errorf("nil event types: body %s, want event_types []", b)
	}
	list, err := c.Subscriptions(ctx)
	if err != nil || len(list) != 1 || list[0].ID != someID {
		t.Errorf("Subscriptions: got %+v, %v", list, err)
	}
	one, err := c.GetSubscription(ctx, someID)
	if err != nil || one.ID != someID {
		t.Errorf("GetSubscription: got %+v, %v", one, err)
	}
	if err := c.Unsubscribe(ctx, someID); err != nil {
		t.Errorf("Unsubscribe: %v", err)
	}
	want := []string{"POST /subscriptions", "POST /subscriptions", "GET /subscriptions", "GET /subscriptions/" + someID, "DELETE /subscriptions/" + someID}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests: got %v, want %v", got, want)
	}
}

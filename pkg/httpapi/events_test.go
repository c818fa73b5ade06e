package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/httpapi"
)

// Payload numbers, strings and escapes come back exactly as sent (minus
// insignificant whitespace): nothing goes through float64 or re-escaping.
func TestPayloadRoundTripsByteExactly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.token(keyFull)
	payloads := []string{
		`{"big":123456789012345678901234567890,"small":1e-400,"huge":1e999999,"prec":0.1000000000000000055511151231257827}`,
		`{"neg0":-0,"exp":1E+2,"frac":10.50,"id":9007199254740993}`,
		`{"html":"<b>&amp;</b>","sep":"\u2028\u2029","esc":"\u00e9\/\"\\","raw":"é😀"}`,
		`{"lone":"\ud800","nul":"\u0000","ctl":"\u001f"}`,
		`{"order":{"z":1,"a":2,"m":[3,2,1]},"dup":1,"dup":2}`,
		`{"nested":` + nest("[", "]", 500) + `}`,
	}
	for _, p := range payloads {
		id := e.createEvent(tok, "round.trip", "tests", " \n"+strings.ReplaceAll(p, ",", " ,\n\t")+" ")
		var compacted bytes.Buffer
		if err := json.Compact(&compacted, []byte(p)); err != nil {
			t.Fatal(err)
		}
		for _, target := range []string{"/events/" + id, "/inbox?limit=1"} {
			res := e.do(req{method: "GET", target: target, token: tok})
			res.wantStatus(t, http.StatusOK)
			raw := res.Body
			if strings.HasPrefix(target, "/inbox") {
				var list []json.RawMessage
				res.json(t, &list)
				raw = list[0]
			}
			var got struct {
				Payload json.RawMessage `json:"payload"`
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			// json.Unmarshal into RawMessage copies bytes verbatim.
			if !bytes.Equal(got.Payload, compacted.Bytes()) {
				t.Errorf("%s payload:\n got %s\nwant %s", target, got.Payload, compacted.Bytes())
			}
		}
	}
}

// An Idempotency-Key makes a retry safe: the same body gets the original
// answer, a different body a conflict.
func TestIdempotency(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.token(keyFull)
	post := func(key, body string) response {
		return e.do(req{method: "POST", target: "/events", token: tok, body: body,
			header: hdr("Content-Type", "application/json", "Idempotency-Key", key)})
	}
	first := post("order-42", validBody)
	first.wantStatus(t, http.StatusCreated)
	var orig created
	first.json(t, &orig)

	e.clock.Advance(1e9)
	for _, b := range []string{validBody, "\n" + strings.ReplaceAll(validBody, ":", " : ") + "\n"} {
		res := post("order-42", b)
		res.wantStatus(t, http.StatusCreated)
		if !bytes.Equal(res.Body, first.Body) {
			t.Errorf("replay body: got %s, want the original %s", res.Body, first.Body)
		}
		if got := res.Header.Get("Idempotent-Replayed"); got != "true" {
			t.Errorf("Idempotent-Replayed: got %q, want true", got)
		}
		if got := res.Header.Get("Location"); got != "/events/"+orig.ID {
			t.Errorf("replay Location: got %q, want /events/%s", got, orig.ID)
		}
	}

	res := post("order-42", `{"type":"user.created","source":"web-app","payload":{"user_id":"99999"}}`)
	res.wantStatus(t, http.StatusUnprocessableEntity)
	if p := res.problem(t); p.Code != event.CodeConflict {
		t.Errorf("conflict code: got %q, want %q", p.Code, event.CodeConflict)
	}

	// A replay after the event was acknowledged still repeats the original answer.
	e.do(req{method: "POST", target: "/inbox/" + orig.ID + "/ack", token: tok}).wantStatus(t, http.StatusOK)
	res = post("order-42", validBody)
	res.wantStatus(t, http.StatusCreated)
	if !bytes.Equal(res.Body, first.Body) {
		t.Errorf("replay after ack: got %s, want %s", res.Body, first.Body)
	}

	// Another key is another event.
	res = post("order-43", validBody)
	res.wantStatus(t, http.StatusCreated)
	var other created
	res.json(t, &other)
	if other.ID == orig.ID || res.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("a new key replayed: got %+v, header %q", other, res.Header.Get("Idempotent-Replayed"))
	}

	// Without a key, every post is a new event.
	a, b := e.createEvent(tok, "x", "y", "{}"), e.createEvent(tok, "x", "y", "{}")
	if a == b {
		t.Errorf("two posts without a key share id %s", a)
	}
}

// GET /inbox pages newest first through Link headers, keeping the filters,
// and ends without one.
func TestInboxPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.token(keyFull)
	var want []string // newest first
	for i := range 7 {
		typ := "order.placed"
		if i%3 == 0 {
			typ = "order.cancelled"
		}
		id := e.createEvent(tok, typ, "shop", `{"n":`+strconv.Itoa(i)+`}`)
		e.clock.Advance(1e6)
		if typ == "order.placed" {
			want = append([]string{id}, want...)
		}
	}

	var got []string
	target := "/inbox?limit=2&type=order.placed&source=shop"
	for pages := 0; target != ""; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		res := e.do(req{method: "GET", target: target, token: tok})
		res.wantStatus(t, http.StatusOK)
		var page []eventJSON
		res.json(t, &page)
		if len(page) > 2 {
			t.Errorf("page of %d events, want at most 2", len(page))
		}
		for _, ev := range page {
			if ev.Type != "order.placed" || ev.Source != "shop" || ev.Status != "pending" {
				t.Errorf("filtered page holds %+v", ev)
			}
			got = append(got, ev.ID)
		}
		target = ""
		if link := res.Header.Get("Link"); link != "" {
			uri, ok := strings.CutPrefix(link, "<")
			uri, rest, ok2 := strings.Cut(uri, ">")
			if !ok || !ok2 || rest != `; rel="next"` || !strings.HasPrefix(uri, "/inbox?") {
				t.Fatalf("Link: got %q, want </inbox?...>; rel=\"next\"", link)
			}
			for _, keep := range []string{"limit=2", "type=order.placed", "source=shop", "cursor="} {
				if !strings.Contains(uri, keep) {
					t.Errorf("Link %q lost %s", link, keep)
				}
			}
			if next := res.Header.Get("X-Next-Cursor"); next == "" || !strings.Contains(uri, "cursor=") {
				t.Errorf("X-Next-Cursor: got %q alongside Link %q", next, link)
			}
			target = uri
		} else if res.Header.Get("X-Next-Cursor") != "" {
			t.Errorf("X-Next-Cursor without Link")
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("paged ids:\n got %v\nwant %v", got, want)
	}

	// Default limit, and an empty result is [] not null.
	res := e.do(req{method: "GET", target: "/inbox?type=nothing.here", token: tok})
	res.wantStatus(t, http.StatusOK)
	if body := strings.TrimSpace(string(res.Body)); body != "[]" {
		t.Errorf("empty inbox: got %s, want []", body)
	}
}

// A page of large events stops at MaxPageBytes (AWS Lambda refuses
// responses over 6 MB) and the Link resumes exactly after it: following the
// links visits every event once.
func TestInboxPageByteBudget(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.token(keyFull)
	big := `{"blob":"` + strings.Repeat("x", 240<<10) + `"}`
	const n = 20
	for range n {
		e.createEvent(tok, "big.event", "test", big)
		e.clock.Advance(1e6)
	}
	seen := map[string]bool{}
	target := "/inbox"
	for pages := 0; target != ""; pages++ {
		if pages > n {
			t.Fatal("paging does not end")
		}
		res := e.do(req{method: "GET", target: target, token: tok})
		res.wantStatus(t, http.StatusOK)
		if len(res.Body) > httpapi.MaxPageBytes {
			t.Errorf("page of %d bytes, want at most %d", len(res.Body), httpapi.MaxPageBytes)
		}
		var page []eventJSON
		res.json(t, &page)
		if len(page) == 0 {
			t.Fatalf("empty page before the end")
		}
		for _, ev := range page {
			if seen[ev.ID] {
				t.Errorf("event %s on two pages", ev.ID)
			}
			seen[ev.ID] = true
		}
		target = ""
		if link := res.Header.Get("Link"); link != "" {
			target = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
		}
	}
	if len(seen) != n {
		t.Errorf("paged %d events, want %d", len(seen), n)
	}
}

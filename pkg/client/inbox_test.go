package client_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/triggershq/triggers/pkg/client"
)

// TestLinkHeaderFallback: a server (or a proxy that drops unknown headers)
// that sends only the Link header still pages; only its cursor is used, so
// the base URL's path prefix survives.
func TestLinkHeaderFallback(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, link, want string
	}{
		{"ours", `</inbox?cursor=abc%3D&limit=2>; rel="next"`, "abc="},
		{"unquoted rel among several", `<https://x/prev?cursor=p>; rel=prev, <https://x/inbox?cursor=n2>; rel=next`, "n2"},
		{"several rel values", `</inbox?cursor=c3>; title="x"; rel="first next"`, "c3"},
		{"no next", `</inbox?cursor=zz>; rel="prev"`, ""},
		{"garbage", `cursor=zz; rel=next`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Link", tc.link)
				w.Write([]byte(`[]`))
			})
			c := newTestClient(t, srv.URL, newFakeClock())
			p, err := c.Inbox(t.Context(), client.InboxQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if p.NextCursor != tc.want {
				t.Errorf("NextCursor: got %q, want %q", p.NextCursor, tc.want)
			}
		})
	}
}

// TestInboxQueryAndPrefix: the query reaches the server as given, under
// the base URL's path prefix (an API Gateway stage).
func TestInboxQueryAndPrefix(t *testing.T) {
	t.Parallel()
	var got []string
	_, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Path+"?"+r.URL.RawQuery)
		w.Write([]byte(`[]`))
	})
	c := newTestClient(t, srv.URL+"/prod/", newFakeClock())
	if _, err := c.Inbox(t.Context(), client.InboxQuery{Limit: 5, Type: "a b", Source: "s&t", Cursor: "c/1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Inbox(t.Context(), client.InboxQuery{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"/prod/inbox?cursor=c%2F1&limit=5&source=s%26t&type=a+b", "/prod/inbox?"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests: got %v, want %v", got, want)
	}
}

// TestIterators: InboxAll walks every page of the real API in order, stops
// when the loop breaks, and survives acks made while it walks.
func TestIterators(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serverOptions{})
	c, err := client.New(srv.URL, srv.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	const n = 23
	ids := make([]string, n)
	for i := range n {
		cr, err := c.Send(t.Context(), client.Event{Type: "it", Source: "sdk", Payload: map[string]int{"i": i}})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = cr.ID
	}
	var seen []string
	for e, err := range c.InboxAll(t.Context(), client.InboxQuery{Limit: 4}) {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, e.ID)
		if len(seen)%2 == 0 {
			if _, err := c.Ack(t.Context(), e.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(seen) != n {
		t.Fatalf("InboxAll: got %d events, want %d", len(seen), n)
	}
	for i, id := range seen {
		if want := ids[n-1-i]; id != want {
			t.Fatalf("event %d: got %s, want %s (newest first)", i, id, want)
		}
	}

	pages := 0
	for p, err := range c.InboxPages(t.Context(), client.InboxQuery{Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(p.Events) == 0 {
			t.Error("an empty page was yielded")
		}
		break
	}
	if pages != 1 {
		t.Errorf("pages after break: got %d, want 1", pages)
	}
	left := 0
	for _, err := range c.InboxAll(t.Context(), client.InboxQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		left++
	}
	if want := n - n/2; left != want {
		t.Errorf("pending after acking every second event: got %d, want %d", left, want)
	}
}

// TestIteratorYieldsErrorOnce: a failing page ends the iteration with one
// error.
func TestIteratorYieldsErrorOnce(t *testing.T) {
	t.Parallel()
	_, srv := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("X-Next-Cursor", "c2")
			fmt.Fprintf(w, `[{"id":%q,"type":"a","source":"b","payload":{},"status":"pending"}]`, someID)
			return
		}
		problem(w, 403, "forbidden", "no inbox:read")
	})
	c := newTestClient(t, srv.URL, newFakeClock())
	var events, errs int
	for _, err := range c.InboxAll(t.Context(), client.InboxQuery{}) {
		if err != nil {
			errs++
			if !errors.Is(err, client.ErrForbidden) {
				t.Errorf("err: got %v, want forbidden", err)
			}
			continue
		}
		events++
	}
	if events != 1 || errs != 1 {
		t.Errorf("got %d events and %d errors, want 1 and 1", events, errs)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	cases := []struct{ url, key string }{
		{"", "k"},
		{"127.0.0.1:8080", "k"},
		{"ftp://x", "k"},
		{"http://", "k"},
		{"http://user:s3cr3tpw@x", "k"},
		{"http://x?token=1", "k"},
		{"http://x", ""},
		{"http://x/%zz", "k"},
	}
	for _, tc := range cases {
		if _, err := client.New(tc.url, tc.key); err == nil {
			t.Errorf("New(%q, %q): want an error", tc.url, tc.key)
		} else if tc.key != "" && tc.url == "http://user:s3cr3tpw@x" && strings.Contains(err.Error(), "s3cr3tpw") {
			t.Errorf("New's error repeats the password: %v", err)
		}
	}
	c, err := client.New("https://api.example.com/prod/", "k")
	if err != nil || c.BaseURL() != "https://api.example.com/prod" {
		t.Errorf("New: got %v, %v", c, err)
	}
}

package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// InboxQuery selects pending events. Zero fields are left to the server:
// Limit 0 means its default page size (100, also the maximum).
type InboxQuery struct {
	Limit  int    // events per page, 1..100
	Type   string // only events of this type (exact match)
	Source string // only events from this source (exact match)
	Cursor string // where to continue: a Page's NextCursor
}

// Page is one page of the inbox, newest event first.
type Page struct {
	Events []Event
	// NextCursor continues after this page; "" on the last page.
	NextCursor string
}

// Inbox returns one page of pending events, newest first (GET /inbox).
// Errors: *Error with IsValidation for a bad limit or cursor.
func (c *Client) Inbox(ctx context.Context, q InboxQuery) (Page, error) {
	query := url.Values{}
	if q.Limit != 0 {
		query.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Type != "" {
		query.Set("type", q.Type)
	}
	if q.Source != "" {
		query.Set("source", q.Source)
	}
	if q.Cursor != "" {
		query.Set("cursor", q.Cursor)
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/inbox", query: query, idempotent: true, bearer: true})
	if err != nil {
		return Page{}, err
	}
	var p Page
	if err := json.Unmarshal(resp.body, &p.Events); err != nil {
		return Page{}, fmt.Errorf("triggers: GET /inbox: decoding the events: %w", err)
	}
	if p.Events == nil {
		p.Events = []Event{}
	}
	p.NextCursor = resp.header.Get("X-Next-Cursor")
	if p.NextCursor == "" {
		p.NextCursor = nextCursorFromLink(resp.header.Values("Link"))
	}
	return p, nil
}

// InboxPages iterates over the inbox page by page, following NextCursor
// from q.Cursor on. On an error it yields the error once and stops. Events
// acknowledged while iterating do not disturb the cursor; events that
// arrive meanwhile are newer than the cursor and are not seen.
func (c *Client) InboxPages(ctx context.Context, q InboxQuery) iter.Seq2[Page, error] {
	return func(yield func(Page, error) bool) {
		for {
			p, err := c.Inbox(ctx, q)
			if err != nil {
				yield(Page{}, err)
				return
			}
			if len(p.Events) > 0 && !yield(p, nil) {
				return
			}
			if p.NextCursor == "" || p.NextCursor == q.Cursor {
				return
			}
			q.Cursor = p.NextCursor
		}
	}
}

// InboxAll iterates over every pending event matching q, newest first,
// fetching pages as it goes:
//
//	for e, err := range c.InboxAll(ctx, client.InboxQuery{Type: "order.created"}) {
//		if err != nil {
//			return err
//		}
//		process(e)
//		if _, err := c.Ack(ctx, e.ID); err != nil {
//			return err
//		}
//	}
//
// On an error it yields (Event{}, err) once and stops.
func (c *Client) InboxAll(ctx context.Context, q InboxQuery) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for p, err := range c.InboxPages(ctx, q) {
			if err != nil {
				yield(Event{}, err)
				return
			}
			for _, e := range p.Events {
				if !yield(e, nil) {
					return
				}
			}
		}
	}
}

// nextCursorFromLink finds rel="next" among Link header values (RFC 8288)
// and returns its cursor parameter. Only the cursor is taken: the link's
// path is relative to the server's root, which is not the base URL behind
// an API Gateway stage.
func nextCursorFromLink(values []string) string {
	for _, v := range values {
		for _, link := range strings.Split(v, ",") {
			link = strings.TrimSpace(link)
			end := strings.IndexByte(link, '>')
			if !strings.HasPrefix(link, "<") || end < 0 {
				continue
			}
			target, params := link[1:end], link[end+1:]
			if !hasRelNext(params) {
				continue
			}
			u, err := url.Parse(target)
			if err != nil {
				continue
			}
			return u.Query().Get("cursor")
		}
	}
	return ""
}

func hasRelNext(params string) bool {
	for _, p := range strings.Split(params, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "rel") {
			continue
		}
		for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(value), `"`)) {
			if strings.EqualFold(rel, "next") {
				return true
			}
		}
	}
	return false
}

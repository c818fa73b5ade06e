package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/triggershq/triggers/pkg/event"
)

// maxCursorLen bounds a cursor before it reaches the store; stores issue
// far shorter ones.
const maxCursorLen = 1024

// listInbox returns pending events newest first, one page at a time. The
// next page's URI goes in a Link header (RFC 8288) and its cursor alone in
// X-Next-Cursor; both are absent on the last page.
func (a *API) listInbox(w http.ResponseWriter, r *http.Request) error {
	q, err := parseInboxQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	page, err := a.listWithinBudget(r.Context(), q)
	if err != nil {
		return locate("query", err)
	}
	events := page.Events
	if events == nil {
		events = []event.Event{} // an empty inbox is [], never null
	}
	if page.Next != "" {
		next := url.Values{"cursor": {page.Next}, "limit": {strconv.Itoa(q.Limit)}}
		if q.Type != "" {
			next.Set("type", q.Type)
		}
		if q.Source != "" {
			next.Set("source", q.Source)
		}
		w.Header().Set("Link", "</inbox?"+next.Encode()+`>; rel="next"`)
		w.Header().Set("X-Next-Cursor", page.Next)
	}
	return writeJSON(w, http.StatusOK, events)
}

// MaxPageBytes bounds the encoded size of one GET /inbox page. AWS Lambda
// refuses responses over 6 MB, and API Gateway's envelope escapes the body
// (up to twice its size for a payload full of quotes), so a page stays well
// under half of that; the single binary uses the same bound so both
// deployments page alike. A page always holds at least one event.
const MaxPageBytes = 2 << 20

// listWithinBudget lists a page and, when its events would encode to more
// than MaxPageBytes, asks the store again for only as many as fit, so the
// store's own cursor still resumes exactly after the last event returned.
// Each retry asks for strictly fewer events, so it ends; it rarely runs at
// all (a page of 100 events averaging 20 KB).
func (a *API) listWithinBudget(ctx context.Context, q event.ListQuery) (event.Page, error) {
	for {
		page, err := a.store.ListPending(ctx, q)
		if err != nil {
			return page, err
		}
		fit := eventsWithin(page.Events, MaxPageBytes)
		if fit == len(page.Events) || q.Limit <= 1 {
			return page, nil
		}
		q.Limit = min(fit, q.Limit-1)
	}
}

// eventsWithin returns how many leading events fit in budget bytes of JSON
// (at least one). The estimate errs high: the fixed part of an event's JSON
// (keys, id, status, two timestamps) is under 200 bytes, and type and source
// are counted twice for their escaping.
func eventsWithin(events []event.Event, budget int) int {
	const fixed = 256
	used := 2 // [ and ]
	for i, e := range events {
		used += fixed + len(e.Payload) + 2*(len(e.Type)+len(e.Source))
		if used > budget {
			return max(i, 1)
		}
	}
	return len(events)
}

// parseInboxQuery reads limit, cursor, type and source strictly: each at
// most once, limit a plain decimal 1..100, the rest non-empty when given.
// Other parameters are ignored (clients add cache busters).
func parseInboxQuery(raw string) (event.ListQuery, error) {
	q := event.ListQuery{Limit: event.DefaultListLimit}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return q, invalidIn("query", kindValue, "", "the query string is malformed (bad %%-escape or a ';' separator)")
	}
	var errs fieldErrors
	one := func(name string) (string, bool) {
		vs, ok := values[name]
		switch {
		case !ok:
			return "", false
		case len(vs) > 1:
			errs = append(errs, invalidIn("query", kindValue, name, "%s is given more than once", name))
			return "", false
		case vs[0] == "":
			errs = append(errs, invalidIn("query", kindValue, name, "%s must not be empty when given", name))
			return "", false
		}
		return vs[0], true
	}
	if s, ok := one("limit"); ok {
		n, valid := parseLimit(s)
		if !valid {
			errs = append(errs, invalidIn("query", kindValue, "limit", "limit must be an integer from 1 to %d", event.MaxListLimit))
		}
		q.Limit = n
	}
	if s, ok := one("cursor"); ok {
		if len(s) > maxCursorLen || !printableASCII(s) {
			errs = append(errs, invalidIn("query", kindValue, "cursor", "cursor is not one this server issued; use the X-Next-Cursor or Link value as is"))
		}
		q.Cursor = s
	}
	if s, ok := one("type"); ok {
		if err := event.ValidateName("type", s, event.MaxTypeLen); err != nil {
			errs = append(errs, domainField("query", err))
		}
		q.Type = s
	}
	if s, ok := one("source"); ok {
		if err := event.ValidateName("source", s, event.MaxSourceLen); err != nil {
			errs = append(errs, domainField("query", err))
		}
		q.Source = s
	}
	return q, errs.orNil()
}

// parseLimit accepts only plain decimal digits (no sign, exponent or
// spaces) in 1..MaxListLimit.
func parseLimit(s string) (int, bool) {
	if len(s) > 9 { // leading zeros are fine; Atoi cannot overflow
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > event.MaxListLimit {
		return 0, false
	}
	return n, true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

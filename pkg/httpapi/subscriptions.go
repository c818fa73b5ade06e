package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/triggershq/triggers/pkg/event"
)

// TargetChecker decides whether a webhook target URL may be subscribed,
// beyond its syntax: *webhook.Sender's CheckTarget resolves the host and
// refuses private, loopback and other non-public addresses (the SSRF
// guard). It returns nil, or an *event.Error whose Message is safe to show
// (CodeInvalid for a refusal); the cause, with host and addresses, belongs
// in its Err, which is logged and never shown.
type TargetChecker interface {
	CheckTarget(ctx context.Context, rawURL string) error
}

// subscriptionMaxBodyBytes bounds a POST /subscriptions body: a 2,048-byte
// URL and 50 patterns of 128 bytes fit many times over, even escaped.
const subscriptionMaxBodyBytes = 64 << 10

// The members of a POST /subscriptions body that we read.
const (
	fieldTargetURL  = "target_url"
	fieldEventTypes = "event_types"
)

// msgTargetRefused answers a refusal by a checker that gave no client-safe
// reason of its own.
const msgTargetRefused = "target_url was refused: it must be a public http(s) URL this server may call"

// subscriptionCreated is the POST /subscriptions answer: the subscription
// and, this once, its signing secret.
type subscriptionCreated struct {
	event.Subscription
	Secret string `json:"secret"`
}

// subscriptionStore returns the configured store, or the 500 of a
// deployment wired without one.
func (a *API) subscriptionStore() (event.SubscriptionStore, error) {
	if a.subs == nil {
		return nil, event.Internal("subscriptions", errors.New("httpapi: no event.SubscriptionStore configured"))
	}
	return a.subs, nil
}

// createSubscription subscribes a target URL. The checks run from the
// outside in, as for POST /events: media type (415), size (413), JSON
// syntax (400), the fields (422, all at once), then the target's addresses
// (422 on a refusal), and only then the store (422 at the cap).
func (a *API) createSubscription(w http.ResponseWriter, r *http.Request) error {
	subs, err := a.subscriptionStore()
	if err != nil {
		return err
	}
	if requestMedia(r) != mediaJSON {
		return unsupportedMedia(w, r, jsonMediaTypes, "application/json")
	}
	body, err := readBody(w, r, subscriptionMaxBodyBytes)
	if err != nil {
		return err
	}
	n, err := decodeNewSubscription(body)
	if err != nil {
		return err
	}
	if err := a.checkTarget(r.Context(), n.TargetURL); err != nil {
		return err
	}
	now := a.now()
	sub := n.Build(a.ids.New(now), event.NewSecret(), now)
	if err := subs.CreateSubscription(r.Context(), sub); err != nil {
		return wholeRequest(err)
	}
	w.Header().Set("Location", "/subscriptions/"+sub.ID)
	a.log.InfoContext(r.Context(), "subscription created", "subscription", sub)
	return writeJSON(w, http.StatusCreated, subscriptionCreated{Subscription: sub, Secret: sub.Secret})
}

// wholeRequest locates a store's CodeInvalid refusal of the request as a
// whole (the subscription cap: Field "subscriptions", which no body member
// is called) at loc ["body"]; other errors pass through.
func wholeRequest(err error) error {
	var e *event.Error
	if !errors.As(err, &e) || e.Code != event.CodeInvalid {
		return err
	}
	return &fieldError{in: "body", kind: kindValue, err: &event.Error{Code: e.Code, Message: e.Message, Err: e.Err}}
}

// checkTarget runs the configured TargetChecker. A refusal is a 422 on
// body.target_url whose detail is the checker's client-safe message; the
// cause goes to the log only.
func (a *API) checkTarget(ctx context.Context, target string) error {
	if a.targets == nil {
		return nil
	}
	err := a.targets.CheckTarget(ctx, target)
	if err == nil {
		return nil
	}
	var e *event.Error
	if errors.As(err, &e) && e.Code != event.CodeInvalid {
		return err // e.g. CodeUnavailable: the resolver is down, not the client's fault
	}
	a.log.InfoContext(ctx, "subscription target refused", "err", err.Error())
	msg := msgTargetRefused
	if e != nil && e.Message != "" {
		msg = e.Message
	}
	return invalidIn("body", kindValue, fieldTargetURL, "%s", msg)
}

// decodeNewSubscription reads and validates a POST /subscriptions body.
// event_types may be absent or null (every type) or an array of strings.
func decodeNewSubscription(body []byte) (event.NewSubscription, error) {
	obj, err := decodeObject(body, fieldTargetURL, fieldEventTypes)
	if err != nil {
		return event.NewSubscription{}, err
	}
	var n event.NewSubscription
	var errs fieldErrors
	if s, ferr := obj.stringField(fieldTargetURL); ferr != nil {
		errs = append(errs, ferr)
	} else if err := event.ValidateTargetURL(s); err != nil {
		errs = append(errs, domainField("body", err))
	} else {
		n.TargetURL = s
	}
	types, ferr := eventTypesField(obj)
	if ferr != nil {
		errs = append(errs, ferr)
	}
	n.EventTypes = types
	if err := errs.orNil(); err != nil {
		return event.NewSubscription{}, err
	}
	if err := n.Validate(); err != nil { // the domain's last word
		return event.NewSubscription{}, domainField("body", err)
	}
	return n, nil
}

// eventTypesField reads event_types: absent or null means every type; else
// an array of at most MaxEventTypePatterns pattern strings. An error names
// the field, and the message the index at fault.
func eventTypesField(obj jsonObject) ([]string, *fieldError) {
	raw, ok := obj[fieldEventTypes]
	if !ok || string(raw) == "null" {
		return []string{}, nil
	}
	if raw[0] != '[' {
		return nil, invalidIn("body", kindValue, fieldEventTypes, "event_types must be an array of strings, got %s", jsonKind(raw))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, invalidIn("body", kindValue, fieldEventTypes, "event_types must be an array of strings")
	}
	if len(items) > event.MaxEventTypePatterns {
		return nil, invalidIn("body", kindValue, fieldEventTypes, "event_types may hold at most %d patterns, got %d", event.MaxEventTypePatterns, len(items))
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		name := fmt.Sprintf("event_types[%d]", i)
		item := jsonObject{name: item}
		s, ferr := item.stringField(name)
		if ferr == nil {
			if err := event.ValidateTypePattern(name, s); err != nil {
				ferr = domainField("body", err)
			}
		}
		if ferr != nil {
			ferr.err.Field = fieldEventTypes // loc ["body","event_types"]; the message names the index
			return nil, ferr
		}
		out = append(out, s)
	}
	return out, nil
}

// listSubscriptions returns every subscription, oldest first, without
// secrets.
func (a *API) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	subs, err := a.subscriptionStore()
	if err != nil {
		return err
	}
	all, err := subs.ListSubscriptions(r.Context())
	if err != nil {
		return err
	}
	if all == nil {
		all = []event.Subscription{}
	}
	return writeJSON(w, http.StatusOK, all)
}

// getSubscription returns one subscription without its secret. A malformed
// id is not found.
func (a *API) getSubscription(w http.ResponseWriter, r *http.Request) error {
	subs, err := a.subscriptionStore()
	if err != nil {
		return err
	}
	id, err := event.ParseSubscriptionID(r.PathValue("id"))
	if err != nil {
		return err
	}
	sub, err := subs.GetSubscription(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sub)
}

// deleteSubscription unsubscribes (Zapier's performUnsubscribe): 204, and
// 404 for an unknown or already deleted subscription. A body is ignored.
func (a *API) deleteSubscription(w http.ResponseWriter, r *http.Request) error {
	subs, err := a.subscriptionStore()
	if err != nil {
		return err
	}
	id, err := event.ParseSubscriptionID(r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := subs.DeleteSubscription(r.Context(), id); err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "subscription deleted", "subscription_id", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listDeliveries returns a subscription's delivery attempts, newest first,
// at most limit (1..100, default 100). An unknown subscription is 404,
// even if attempts made before it was deleted have not expired yet.
func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	subs, err := a.subscriptionStore()
	if err != nil {
		return err
	}
	if a.deliveries == nil {
		return event.Internal("deliveries", errors.New("httpapi: no event.DeliveryLog configured"))
	}
	id, err := event.ParseSubscriptionID(r.PathValue("id"))
	if err != nil {
		return err
	}
	limit, err := parseDeliveriesQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	if _, err := subs.GetSubscription(r.Context(), id); err != nil {
		return err
	}
	attempts, err := a.deliveries.ListAttempts(r.Context(), id, limit)
	if err != nil {
		return err
	}
	if attempts == nil {
		attempts = []event.Attempt{}
	}
	return writeJSON(w, http.StatusOK, attempts)
}

// parseDeliveriesQuery reads limit (at most once, 1..100); other
// parameters are ignored, as on GET /inbox.
func parseDeliveriesQuery(raw string) (int, error) {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return 0, invalidIn("query", kindValue, "", "the query string is malformed (bad %%-escape or a ';' separator)")
	}
	vs, ok := values["limit"]
	switch {
	case !ok:
		return event.MaxListLimit, nil
	case len(vs) > 1:
		return 0, invalidIn("query", kindValue, "limit", "limit is given more than once")
	}
	n, valid := parseLimit(vs[0])
	if !valid {
		return 0, invalidIn("query", kindValue, "limit", "limit must be an integer from 1 to %d", event.MaxListLimit)
	}
	return n, nil
}

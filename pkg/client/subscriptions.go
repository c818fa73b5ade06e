package client

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Subscription is a REST hook: the deployment POSTs every new event whose
// type matches EventTypes to TargetURL, signed with Secret (see
// VerifyWebhook).
//
// Secret is only set on the Subscription that Subscribe returns: the server
// shows it once. String and LogValue leave it out.
type Subscription struct {
	ID             string    `json:"id"`
	TargetURL      string    `json:"target_url"`
	EventTypes     []string  `json:"event_types"` // empty: every type
	Secret         string    `json:"secret,omitempty"`
	Status         string    `json:"status,omitempty"` // "active" or "disabled"
	DisabledReason string    `json:"disabled_reason,omitempty"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
	UpdatedAt      time.Time `json:"updated_at,omitzero"`
}

// String describes the subscription without its secret.
func (s Subscription) String() string {
	return fmt.Sprintf("subscription %s (%s, %s, types %v)", s.ID, s.Status, s.TargetURL, s.EventTypes)
}

// LogValue implements slog.LogValuer without the secret.
func (s Subscription) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", s.ID), slog.String("status", s.Status), slog.Any("event_types", s.EventTypes))
}

// Subscribe creates a subscription (POST /subscriptions): events whose type
// matches one of eventTypes ("order.created", or a prefix pattern
// "order.*"; none means every event) are POSTed to targetURL. Keep the
// returned Secret to verify the deliveries.
//
// Creating a subscription is not idempotent, so Subscribe repeats the
// request only when the server surely did not act on it: 429, the Triggers
// server's own 503 problem, or no connection. Errors: *Error with
// IsValidation for a bad or refused target URL or pattern, IsForbidden
// without the subscriptions:manage scope.
func (c *Client) Subscribe(ctx context.Context, targetURL string, eventTypes []string) (Subscription, error) {
	if eventTypes == nil {
		eventTypes = []string{}
	}
	body, err := json.Marshal(struct {
		TargetURL  string   `json:"target_url"`
		EventTypes []string `json:"event_types"`
	}{targetURL, eventTypes})
	if err != nil {
		return Subscription{}, fmt.Errorf("triggers: subscribe: %w", err)
	}
	resp, err := c.do(ctx, request{
		method:      http.MethodPost,
		path:        "/subscriptions",
		body:        body,
		contentType: "application/json",
		bearer:      true,
	})
	if err != nil {
		return Subscription{}, err
	}
	var s Subscription
	if err := json.Unmarshal(resp.body, &s); err != nil || s.ID == "" {
		return Subscription{}, fmt.Errorf("triggers: POST /subscriptions: the answer holds no subscription id")
	}
	return s, nil
}

// Subscriptions lists this deployment's subscriptions (GET /subscriptions),
// without their secrets.
func (c *Client) Subscriptions(ctx context.Context) ([]Subscription, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/subscriptions", idempotent: true, bearer: true})
	if err != nil {
		return nil, err
	}
	var subs []Subscription
	if err := json.Unmarshal(resp.body, &subs); err != nil {
		return nil, fmt.Errorf("triggers: GET /subscriptions: decoding the subscriptions: %w", err)
	}
	return subs, nil
}

// GetSubscription returns one subscription without its secret (GET
// /subscriptions/{id}). Errors: *Error with IsNotFound.
func (c *Client) GetSubscription(ctx context.Context, id string) (Subscription, error) {
	path := "/subscriptions/" + url.PathEscape(id)
	resp, err := c.do(ctx, request{method: http.MethodGet, path: path, idempotent: true, bearer: true})
	if err != nil {
		return Subscription{}, err
	}
	var s Subscription
	if err := json.Unmarshal(resp.body, &s); err != nil {
		return Subscription{}, fmt.Errorf("triggers: GET %s: decoding the subscription: %w", path, err)
	}
	return s, nil
}

// Unsubscribe deletes a subscription (DELETE /subscriptions/{id}); no more
// deliveries start for it. Errors: *Error with IsNotFound for an unknown id.
//
// A delete is repeated after a lost answer like any idempotent request; if
// a repeat finds the subscription gone, an earlier attempt deleted it and
// Unsubscribe returns nil.
func (c *Client) Unsubscribe(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/subscriptions/" + url.PathEscape(id), idempotent: true, bearer: true, retriedNotFoundOK: true})
	return err
}

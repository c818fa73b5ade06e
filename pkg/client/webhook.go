package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/triggershq/triggers/pkg/webhook"
)

// ErrInvalidWebhook is wrapped by every error of VerifyWebhook: the request
// did not come from the deployment (or was replayed, or altered), so
// answer it with 400 or 401 and do not process it.
var ErrInvalidWebhook = errors.New("triggers: invalid webhook")

// VerifyWebhook checks a delivery a receiver got from a subscription (or
// from `triggers listen`) against the subscription's secret ("whsec_…"):
// the Standard Webhooks signature over the exact body bytes, with a
// webhook-timestamp within 5 minutes of this machine's clock. It returns
// the event the body holds: ID, Type, Source, Payload (the producer's
// bytes) and CreatedAt.
//
// Read the body with a size limit, pass it unparsed, and drop repeats of
// the webhook-id header: delivery is at least once, and every retry of a
// delivery carries the same webhook-id.
//
// Errors wrap ErrInvalidWebhook, and for a bad signature or timestamp also
// webhook.ErrSignature, webhook.ErrTimestamp or webhook.ErrMissingHeaders;
// a malformed secret wraps webhook.ErrInvalidSecret.
func VerifyWebhook(secret string, headers http.Header, body []byte) (Event, error) {
	if err := webhook.Verify(secret, headers, body, webhook.DefaultTolerance); err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrInvalidWebhook, err)
	}
	var e Event
	if err := json.Unmarshal(body, &e); err != nil || e.ID == "" {
		return Event{}, fmt.Errorf("%w: the signed body is not an event", ErrInvalidWebhook)
	}
	return e, nil
}

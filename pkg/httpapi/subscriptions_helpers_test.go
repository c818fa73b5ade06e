package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/httpapi"
	"github.com/triggershq/triggers/pkg/webhook"
)

// subJSON is a subscription as the API returns it.
type subJSON struct {
	ID             string   `json:"id"`
	TargetURL      string   `json:"target_url"`
	EventTypes     []string `json:"event_types"`
	Status         string   `json:"status"`
	DisabledReason string   `json:"disabled_reason"`
	Secret         string   `json:"secret"`
	CreatedAt      string   `json:"created_at"`
	UpdatedAt      string   `json:"updated_at"`
}

const hookURL = "https://hooks.example.com/zap/123"

// subscribe creates a subscription over HTTP and returns the answer.
func (e *env) subscribe(t testing.TB, target string, types string) subJSON {
	t.Helper()
	b := `{"target_url":` + quote(target) + `}`
	if types != "" {
		b = `{"target_url":` + quote(target) + `,"event_types":` + types + `}`
	}
	res := e.do(req{method: "POST", target: "/subscriptions", token: e.token(keySubs), header: jsonCT, body: b})
	res.wantStatus(t, http.StatusCreated)
	var s subJSON
	res.json(t, &s)
	return s
}

// withTargetChecker guards subscriptions with a real webhook.Sender, the
// SSRF guard as deployed (private networks refused).
func withTargetChecker(c *httpapi.Config) {
	c.TargetChecker = webhook.NewSender(webhook.Options{})
}

// faultSubs is the real subscription store and delivery log with faults
// injected per method; a nil field passes the call through.
type faultSubs struct {
	event.SubscriptionStore
	event.DeliveryLog
	create, list, get, del, attempts func() error
}

func (f *faultSubs) CreateSubscription(ctx context.Context, s event.Subscription) error {
	if f.create != nil {
		return f.create()
	}
	return f.SubscriptionStore.CreateSubscription(ctx, s)
}

func (f *faultSubs) ListSubscriptions(ctx context.Context) ([]event.Subscription, error) {
	if f.list != nil {
		return nil, f.list()
	}
	return f.SubscriptionStore.ListSubscriptions(ctx)
}

func (f *faultSubs) GetSubscription(ctx context.Context, id string) (event.Subscription, error) {
	if f.get != nil {
		return event.Subscription{}, f.get()
	}
	return f.SubscriptionStore.GetSubscription(ctx, id)
}

func (f *faultSubs) DeleteSubscription(ctx context.Context, id string) error {
	if f.del != nil {
		return f.del()
	}
	return f.SubscriptionStore.DeleteSubscription(ctx, id)
}

func (f *faultSubs) ListAttempts(ctx context.Context, id string, limit int) ([]event.Attempt, error) {
	if f.attempts != nil {
		return nil, f.attempts()
	}
	return f.DeliveryLog.ListAttempts(ctx, id, limit)
}

// withSubFaults returns a setup whose subscription store has faults.
func withSubFaults(f faultSubs) func(t *testing.T) *env {
	return func(t *testing.T) *env {
		e := newEnv(t, nil, func(c *httpapi.Config) {
			f.SubscriptionStore = c.Store.(event.SubscriptionStore)
			f.DeliveryLog = c.Store.(event.DeliveryLog)
			c.Subscriptions, c.Deliveries = &f, &f
		})
		e.allow5xx = true
		return e
	}
}

// recordAttempts stores a delivery of a fresh event to subID and n
// attempts of it, one second apart, through the store (the deliverer's
// side), and returns them oldest first.
func (e *env) recordAttempts(t testing.TB, subID string, n int) []event.Attempt {
	t.Helper()
	log := e.store.(event.DeliveryLog)
	var ids event.IDs
	d := event.NewDelivery(ids.New(e.clock.Now()), subID, e.clock.Now())
	if _, _, err := log.ClaimDelivery(t.Context(), d); err != nil {
		t.Fatalf("ClaimDelivery: %v", err)
	}
	var out []event.Attempt
	for i := range n {
		e.clock.Advance(1e9)
		a := event.Attempt{DeliveryID: d.ID, SubscriptionID: subID, EventID: d.EventID, N: i + 1, At: e.clock.Now(),
			StatusCode: 503, Latency: 1500 * 1e6, Error: "HTTP 503", Outcome: event.OutcomeRetry}
		if i == n-1 {
			a.StatusCode, a.Error, a.Outcome = 200, "", event.OutcomeSuccess
			d.State = event.DeliverySucceeded
		}
		d.Attempts, d.UpdatedAt = a.N, a.At
		if err := log.RecordAttempt(t.Context(), d, a); err != nil {
			t.Fatalf("RecordAttempt: %v", err)
		}
		out = append(out, a)
	}
	return out
}

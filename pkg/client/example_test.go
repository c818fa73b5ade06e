package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/triggershq/triggers/pkg/client"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/webhook"
)

func ExampleClient_Send() {
	srv := newExampleServer() // a real Triggers API on a temporary store
	defer srv.Close()
	ctx := context.Background()

	c, err := client.New(srv.URL, srv.APIKey)
	if err != nil {
		panic(err)
	}
	type order struct {
		ID    int    `json:"order_id"`
		Total string `json:"total"`
	}
	created, err := c.Send(ctx, client.Event{Type: "order.created", Source: "shop", Payload: order{1042, "19.90"}})
	if err != nil {
		panic(err)
	}
	fmt.Println("status:", created.Status)

	// Sending again with the same idempotency key stores nothing new.
	again, err := c.Send(ctx, client.Event{Type: "order.created", Source: "shop", Payload: order{1042, "19.90"}},
		client.WithIdempotencyKey(created.IdempotencyKey))
	if err != nil {
		panic(err)
	}
	fmt.Println("replayed:", again.Replayed, "same id:", again.ID == created.ID)

	// A json.RawMessage payload is stored byte for byte.
	raw := json.RawMessage(`{"amount":12345678901234567890.10,"note":"<b>"}`)
	sent, err := c.Send(ctx, client.Event{Type: "payment.received", Source: "bank", Payload: raw})
	if err != nil {
		panic(err)
	}
	got, err := c.Get(ctx, sent.ID)
	if err != nil {
		panic(err)
	}
	stored, _ := got.RawPayload()
	fmt.Println(string(stored))
	// Output:
	// status: pending
	// replayed: true same id: true
	// {"amount":12345678901234567890.10,"note":"<b>"}
}

func ExampleClient_Inbox() {
	srv := newExampleServer()
	defer srv.Close()
	ctx := context.Background()
	c, err := client.New(srv.URL, srv.APIKey)
	if err != nil {
		panic(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := c.Send(ctx, client.Event{Type: "ticket.opened", Source: "helpdesk", Payload: map[string]int{"ticket": i}}); err != nil {
			panic(err)
		}
	}

	// One page at a time, newest first; NextCursor continues.
	page, err := c.Inbox(ctx, client.InboxQuery{Limit: 2})
	if err != nil {
		panic(err)
	}
	for _, e := range page.Events {
		fmt.Println(e.Type, string(e.Payload.(json.RawMessage)))
	}
	fmt.Println("more:", page.NextCursor != "")
	page, err = c.Inbox(ctx, client.InboxQuery{Limit: 2, Cursor: page.NextCursor})
	if err != nil {
		panic(err)
	}
	for _, e := range page.Events {
		fmt.Println(e.Type, string(e.Payload.(json.RawMessage)))
	}
	fmt.Println("more:", page.NextCursor != "")
	// Output:
	// ticket.opened {"ticket":3}
	// ticket.opened {"ticket":2}
	// more: true
	// ticket.opened {"ticket":1}
	// more: false
}

func ExampleClient_InboxAll() {
	srv := newExampleServer()
	defer srv.Close()
	ctx := context.Background()
	c, err := client.New(srv.URL, srv.APIKey)
	if err != nil {
		panic(err)
	}
	for i := range 5 {
		if _, err := c.Send(ctx, client.Event{Type: "user.signup", Source: "web", Payload: map[string]int{"n": i}}); err != nil {
			panic(err)
		}
	}

	// Process and acknowledge everything pending, fetching pages as needed.
	processed := 0
	for e, err := range c.InboxAll(ctx, client.InboxQuery{Type: "user.signup", Limit: 2}) {
		if err != nil {
			panic(err)
		}
		var p struct{ N int }
		if err := e.DecodePayload(&p); err != nil {
			panic(err)
		}
		if _, err := c.Ack(ctx, e.ID); err != nil {
			panic(err)
		}
		processed++
	}
	left, err := c.Inbox(ctx, client.InboxQuery{})
	if err != nil {
		panic(err)
	}
	fmt.Println("processed:", processed, "left:", len(left.Events))
	// Output:
	// processed: 5 left: 0
}

func ExampleClient_Ack() {
	srv := newExampleServer()
	defer srv.Close()
	ctx := context.Background()
	c, err := client.New(srv.URL, srv.APIKey)
	if err != nil {
		panic(err)
	}
	created, err := c.Send(ctx, client.Event{Type: "invoice.paid", Source: "billing", Payload: map[string]string{"invoice": "INV-7"}})
	if err != nil {
		panic(err)
	}
	acked, err := c.Ack(ctx, created.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println(acked.Status)

	// Errors are typed: an unknown id is not found.
	_, err = c.Ack(ctx, "0190b6c4-0000-7000-8000-000000000000")
	fmt.Println("not found:", client.IsNotFound(err))
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code)
	}
	// Output:
	// delivered
	// not found: true
	// 404 not_found
}

func ExampleVerifyWebhook() {
	// The secret comes from Subscribe (or `triggers listen` prints one).
	secret := event.NewSecret()

	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		e, err := client.VerifyWebhook(secret, r.Header, body)
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Println("received", e.Type, string(e.Payload.(json.RawMessage)))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	// What the deployment sends (pkg/webhook signs it).
	body := []byte(`{"id":"019ac9f1-5a00-7c3e-9d2a-4b1f0e8c7a61","type":"order.created","source":"shop","payload":{"order_id":1042},"created_at":"2026-11-28T10:00:00Z"}`)
	for _, key := range []string{secret, event.NewSecret()} { // the right secret, then a wrong one
		sig, err := webhook.Sign(key, "msg_example", time.Now(), body)
		if err != nil {
			panic(err)
		}
		req, _ := http.NewRequest(http.MethodPost, receiver.URL, bytes.NewReader(body))
		req.Header.Set(webhook.HeaderID, "msg_example")
		req.Header.Set(webhook.HeaderTimestamp, fmt.Sprint(time.Now().Unix()))
		req.Header.Set(webhook.HeaderSignature, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// received order.created {"order_id":1042}
	// 204
	// 401
}

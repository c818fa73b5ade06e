package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"
)

// The statuses of an event.
const (
	StatusPending   = "pending"   // in the inbox
	StatusDelivered = "delivered" // acknowledged
)

// Event is an event to send, or one read back from the API.
//
// To send, set Type, Source and Payload. Payload is any value that encodes
// to a JSON object (a struct, a map[string]any), or a json.RawMessage (or
// []byte) holding one, which is sent byte for byte; nil sends {}.
//
// An Event read from the API (Get, Inbox, Ack, VerifyWebhook) has its
// Payload as a json.RawMessage holding the producer's bytes exactly as
// stored: use DecodePayload or RawPayload. Such an Event can be sent again
// as is.
type Event struct {
	ID        string    `json:"id,omitempty"`
	Type      string    `json:"type"`
	Source    string    `json:"source"`
	Payload   any       `json:"payload"`
	Status    string    `json:"status,omitempty"` // absent in webhook bodies
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"` // absent in webhook bodies
}

// UnmarshalJSON keeps the payload's bytes as a json.RawMessage.
func (e *Event) UnmarshalJSON(b []byte) error {
	var v struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		Source    string          `json:"source"`
		Payload   json.RawMessage `json:"payload"`
		Status    string          `json:"status"`
		CreatedAt time.Time       `json:"created_at"`
		UpdatedAt time.Time       `json:"updated_at"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*e = Event{ID: v.ID, Type: v.Type, Source: v.Source, Status: v.Status, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
	if v.Payload != nil {
		e.Payload = v.Payload
	}
	return nil
}

// RawPayload returns the payload as JSON: the stored bytes of an event read
// from the API, or the encoding of a Payload set in Go.
func (e Event) RawPayload() (json.RawMessage, error) {
	return encodePayload(e.Payload)
}

// DecodePayload decodes the payload into v, like json.Unmarshal.
func (e Event) DecodePayload(v any) error {
	raw, err := encodePayload(e.Payload)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// Created is the answer to Send.
type Created struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Timestamp time.Time `json:"timestamp"`
	// Replayed is true when the server already held an event for this
	// idempotency key (an earlier attempt of this Send reached it, or an
	// earlier Send with the same key) and answered with that one.
	Replayed bool `json:"replayed"`
	// IdempotencyKey is the key the send used, generated or given.
	IdempotencyKey string `json:"idempotency_key"`
}

// Send creates an event (POST /events).
//
// Every Send has one Idempotency-Key, a random UUID unless
// WithIdempotencyKey gives one, and every retry of it repeats that key and
// the same bytes: if an attempt reached the server but its answer was lost,
// the retry is answered with the event already stored (Replayed), so a Send
// that returns without error has stored its event exactly once. A Send that
// fails may or may not have stored it; repeating it with the same key (the
// *SendError carries it) stores it at most once.
//
// Errors are a *SendError wrapping an *Error with IsValidation (a bad type,
// source or payload), IsTooLarge, IsConflict (the key was used for a
// different event), IsUnauthorized, IsForbidden ...; or the last transport
// error once the retry budget is spent.
func (c *Client) Send(ctx context.Context, e Event, opts ...SendOption) (Created, error) {
	var sc sendConfig
	for _, o := range opts {
		o(&sc)
	}
	if sc.idempotencyKey == "" {
		sc.idempotencyKey = uuid.NewString()
	}
	payload, err := encodePayload(e.Payload)
	if err != nil {
		return Created{}, fmt.Errorf("triggers: send: %w", err)
	}
	body, err := eventBody(e.Type, e.Source, payload)
	if err != nil {
		return Created{}, fmt.Errorf("triggers: send: %w", err)
	}
	fail := func(err error) (Created, error) {
		return Created{}, &SendError{IdempotencyKey: sc.idempotencyKey, Err: err}
	}
	resp, err := c.do(ctx, request{
		method:      http.MethodPost,
		path:        "/events",
		body:        body,
		contentType: "application/json",
		header:      http.Header{"Idempotency-Key": {sc.idempotencyKey}},
		idempotent:  true, // the key makes it so
		bearer:      true,
	})
	if err != nil {
		return fail(err)
	}
	var cr Created
	if err := json.Unmarshal(resp.body, &cr); err != nil || cr.ID == "" {
		return fail(errors.New("triggers: POST /events: the answer holds no event id"))
	}
	cr.Replayed = resp.header.Get("Idempotent-Replayed") == "true"
	cr.IdempotencyKey = sc.idempotencyKey
	return cr, nil
}

// SendError is how Send fails once it has made its idempotency key: Err is
// the cause (an *Error, a transport error, ctx.Err()), IdempotencyKey the key
// to repeat the send with, so that it stores the event at most once.
type SendError struct {
	IdempotencyKey string
	Err            error
}

// Error returns the cause's message.
func (e *SendError) Error() string { return e.Err.Error() }

// Unwrap returns the cause, so IsValidation and errors.Is see through.
func (e *SendError) Unwrap() error { return e.Err }

// Get returns one event in any status (GET /events/{id}). Errors: *Error
// with IsNotFound for an unknown, expired or malformed id.
func (c *Client) Get(ctx context.Context, id string) (Event, error) {
	return c.eventCall(ctx, http.MethodGet, "/events/"+url.PathEscape(id))
}

// Ack acknowledges an event (POST /inbox/{id}/ack): it leaves the inbox and
// is returned with status delivered. Acknowledging it again is harmless and
// returns the same. Errors: *Error with IsNotFound for an unknown id.
func (c *Client) Ack(ctx context.Context, id string) (Event, error) {
	return c.eventCall(ctx, http.MethodPost, "/inbox/"+url.PathEscape(id)+"/ack")
}

func (c *Client) eventCall(ctx context.Context, method, path string) (Event, error) {
	resp, err := c.do(ctx, request{method: method, path: path, idempotent: true, bearer: true})
	if err != nil {
		return Event{}, err
	}
	var e Event
	if err := json.Unmarshal(resp.body, &e); err != nil {
		return Event{}, fmt.Errorf("triggers: %s %s: decoding the event: %w", method, path, err)
	}
	return e, nil
}

// encodePayload returns the JSON of a payload: raw bytes as they are (after
// checking they are JSON), nil as {}, anything else through encoding/json
// without HTML escaping (so "<" stays "<" as the producer wrote it).
func encodePayload(p any) (json.RawMessage, error) {
	var raw []byte
	switch v := p.(type) {
	case nil:
		return json.RawMessage("{}"), nil
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("encoding the payload: %w", err)
		}
		return bytes.TrimRight(buf.Bytes(), "\n"), nil
	}
	if !json.Valid(raw) {
		return nil, errors.New("the payload is not valid JSON")
	}
	return raw, nil
}

// eventBody writes {"type","source","payload"} with the payload's bytes
// spliced in unchanged.
func eventBody(typ, source string, payload json.RawMessage) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteString(`{"type":`)
	if err := enc.Encode(typ); err != nil {
		return nil, err
	}
	buf.Truncate(buf.Len() - 1)
	buf.WriteString(`,"source":`)
	if err := enc.Encode(source); err != nil {
		return nil, err
	}
	buf.Truncate(buf.Len() - 1)
	buf.WriteString(`,"payload":`)
	buf.Write(payload)
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// Package client is the Go SDK for Triggers, for producers (Send) and
// consumers (Inbox, InboxAll, Ack, Subscribe, VerifyWebhook).
//
//	c, err := client.New("https://triggers.example.com", os.Getenv("TRIGGERS_API_KEY"))
//	created, err := c.Send(ctx, client.Event{Type: "order.created", Source: "shop", Payload: order})
//
// # Authentication
//
// A Client exchanges its API key for a bearer token at POST /token on its
// first call, keeps it, and fetches a new one shortly before it expires (by
// the expires_in the server sent). If the server refuses a token anyway
// (401: a signing key was rotated out, clocks disagree), the client fetches
// a new one and repeats the request once. Concurrent calls that need a
// token share one fetch. The API key and tokens never appear in errors or
// log records.
//
// # Retries
//
// Each call retries on network errors, 429, 503, and (for idempotent
// requests) 500, 502, 504 and 408, waiting between attempts with
// exponential backoff and full jitter, or exactly as long as a Retry-After
// header says (seconds or an HTTP-date). The RetryPolicy bounds the number
// of attempts and the elapsed time; the context bounds everything. A
// Retry-After longer than RetryPolicy.MaxRetryAfter ends the call at once
// with an *Error whose RetryAfter tells the caller when to come back.
//
// Every request is idempotent except creating a subscription, which is
// repeated only when the server surely did not act: 429, the Triggers
// server's own 503 problem, or a connection that could not be made.
//
// # Exactly-once sends
//
// Send puts one Idempotency-Key on a logical send and repeats it, with the
// same bytes, on every retry. The nasty case, where the server stored the
// event but the answer was lost on the way back, is then harmless: the
// retry is answered with the stored event (Created.Replayed). A Send that
// returns nil stored its event exactly once; one that returns an error may
// or may not have, and repeating it with WithIdempotencyKey(created key)
// settles which without a duplicate.
//
// # Errors
//
// An error answer is an *Error decoded from the problem+json body, with the
// status, the stable code, the detail, the request id to quote and any
// Retry-After. Test for kinds with IsNotFound, IsValidation, IsConflict,
// IsUnauthorized ... or errors.Is(err, client.ErrNotFound).
//
// docs/sdk.md has the longer story.
package client

// Package webhook pushes events to subscribers' URLs (REST hooks), the way
// the Standard Webhooks specification describes: a JSON body signed with
// HMAC-SHA256 in the webhook-id, webhook-timestamp and webhook-signature
// headers.
//
// It holds the parts that need no store, so the AWS deliver function, the
// single binary's delivery worker, the Go SDK and `triggers listen` share
// them:
//
//   - Body, Sign and Verify: the wire format (see docs/webhooks.md);
//   - Sender: one attempt of one delivery over an http.Client that follows
//     no redirects, reads a bounded response, times out, and refuses to
//     connect to private, loopback, link-local and other non-public
//     addresses (the SSRF guard) unless the operator opts in;
//   - Sender.CheckTarget: the same address rules at subscribe time;
//   - Policy: when to retry, when to give up, and when a subscription whose
//     deliveries keep failing is disabled, as pure functions of their inputs.
//
// Whether a delivery happens at most once per event and subscription is the
// caller's business (event.DeliveryLog.ClaimDelivery); what this package
// guarantees is that every attempt of a delivery carries the same webhook-id,
// so a receiver can drop the duplicates that at-least-once retries produce.
package webhook

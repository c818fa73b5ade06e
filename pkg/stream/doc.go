// Package stream is what happens after an event changes, on both
// deployments: change records become metrics and webhook deliveries, and
// deliveries become attempts.
//
//   - Consumer handles one change record (event.Change): a created event
//     is counted and fanned out, one delivery per matching active
//     subscription, claimed through event.DeliveryLog.ClaimDelivery so a
//     record seen twice delivers once; an acknowledged event is counted
//     with its ack latency; an event expired while pending is counted.
//     New deliveries are handed to a Handoff: the SQS retry queue on AWS
//     (package sqsretry), a wake-up of the Scheduler on the single binary,
//     whose durable schedule already holds them.
//   - Deliverer makes one attempt of one pending delivery through a
//     webhook sender, records it (event.DeliveryLog.RecordAttempt), and
//     applies the consequences: a 410 deletes the subscription, a
//     delivery out of attempts is dead and disables its subscription, a
//     subscription failing for a day is disabled; the reason is recorded.
//   - Worker (single binary) reads the embedded store's change feed from a
//     durable checkpoint and calls Consumer.Handle: at least once, made
//     idempotent by the claims.
//   - Scheduler (single binary) polls the durable schedule
//     (event.DeliverySchedule) and runs due deliveries through the
//     Deliverer with bounded concurrency and a per-subscription cap, so a
//     dead target cannot take every slot.
//
// On AWS, package dynamodbstreams turns DynamoDB Streams records into
// event.Change values for the Consumer (functions/stream), and package
// sqsretry carries deliveries through SQS to the Deliverer
// (functions/deliver). docs/stream.md describes both flows.
package stream

// Package dynamostore is the DynamoDB implementation of event.Store, and the
// DynamoDB-backed attempt limiter that keeps the /token brute-force limit
// across Lambda instances.
//
// Everything lives in one table with generic key names (pk, sk), two sparse,
// write-sharded global secondary indexes for pending events, a TTL attribute
// (ttl, epoch seconds) and a stream with NEW_AND_OLD_IMAGES. The layout, the
// access patterns and their costs are documented in docs/dynamodb.md; the
// short version:
//
//   - Every write on a hot path is one single-item conditional write. There
//     are no transactions and no scans.
//   - Pending events are indexed under PENDING#<shard> (and PTYPE#<type>#<shard>
//     for the type filter), so ingest spreads over N index partitions instead
//     of one. ListPending queries the N shards in parallel and merges them
//     newest first; its cursor holds one resume position per shard.
//   - Payloads are stored as the raw JSON text the producer sent, never as a
//     DynamoDB map, so they round-trip byte for byte.
//   - Expiry: TTL deletes items lazily (hours to days late), so every read
//     checks expires_at against the store's clock.
//   - Throttling and transient failures are retried by the SDK's standard
//     retryer with a bounded budget (see NewClient) and then reported as
//     event.CodeUnavailable with a RetryAfterSeconds hint.
//
// The store does not implement event.ChangeFeed: on AWS, DynamoDB Streams is
// the change feed. EventFromItem decodes stream images with the same code the
// store uses.
package dynamostore

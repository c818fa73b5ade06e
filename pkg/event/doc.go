// Package event is the domain at the centre of Triggers: the Event, its
// lifecycle (pending → delivered), validation of what producers send, event
// ids, the error model shared by every adapter, and the storage contracts that
// the embedded (bbolt) and DynamoDB stores both implement.
//
// It imports nothing from HTTP or AWS. Adapters (stores, HTTP handlers, the
// API Gateway adapter) depend on this package and never on each other.
package event

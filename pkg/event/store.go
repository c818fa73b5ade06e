package event

import (
	"context"
	"time"
)

// Store keeps events. Every implementation passes the conformance suite in
// pkg/storetest, which is the executable form of these comments.
//
// Errors are *Error values (see ErrorCode); any method may also return
// CodeUnavailable when the backing service throttles or is briefly down, and
// CodeInternal for anything unexpected. Implementations are safe for
// concurrent use. A Store reads the clock (for expiry and ack times) from its
// own injected Now option, never from time.Now directly.
type Store interface {
	// Put stores a new pending event. When Put returns nil the event is
	// durable: it survives a crash of the process (kill -9) or of the host.
	//
	// If e.IdempotencyKey is set and a live (unexpired) event already holds
	// that key, nothing is written: if its Fingerprint equals e.Fingerprint,
	// Put returns the stored event and replayed=true; otherwise it returns
	// CodeConflict. Keys are free again once their event expires.
	// CodeTooLarge if the event exceeds the store's item size limit.
	Put(ctx context.Context, e Event) (stored Event, replayed bool, err error)

	// Get returns the event with the given canonical id, in any status.
	// CodeNotFound if there is none or it has expired.
	Get(ctx context.Context, id string) (Event, error)

	// ListPending returns pending, unexpired events newest first (by id,
	// which is creation order), at most q.Limit of them, filtered by q.Type
	// and q.Source when set. Page.Next resumes after the last event returned;
	// it is "" only when there are no more. A page may hold fewer than
	// q.Limit events while Next is set (a store may bound the work one call
	// does). Its cost grows with q.Limit, not with the number of pending
	// events. CodeInvalid (Field "cursor") for a cursor it did not issue.
	ListPending(ctx context.Context, q ListQuery) (Page, error)

	// Ack marks a pending event delivered at the store's Now, as a
	// conditional transition: when several Acks race, exactly one returns
	// transitioned=true. Acking an event that is already delivered returns
	// it unchanged with transitioned=false and no error. CodeNotFound if the
	// event does not exist or has expired.
	Ack(ctx context.Context, id string) (e Event, transitioned bool, err error)

	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error

	// Close releases the store. Calls after Close fail.
	Close() error
}

// ListQuery selects a page of pending events.
type ListQuery struct {
	Limit  int    // 1..MaxListLimit; the store treats anything else as MaxListLimit
	Cursor string // opaque, from a previous Page.Next; "" for the first page
	Type   string // exact match when non-empty
	Source string // exact match when non-empty
}

// Paging bounds for ListPending.
const (
	MaxListLimit     = 100
	DefaultListLimit = 100
)

// Page is one page of ListPending.
type Page struct {
	Events []Event
	// Next is an opaque cursor for the following page, "" at the end.
	Next string
}

// ChangeKind says what happened to an event.
type ChangeKind string

// The kinds of change the change feed carries.
const (
	ChangeCreated   ChangeKind = "created"   // Put stored a new event (not on replays)
	ChangeDelivered ChangeKind = "delivered" // Ack moved it pending → delivered
	ChangeExpired   ChangeKind = "expired"   // retention removed it
)

// Change is one record of the change feed: the event as it was after the
// change (for ChangeExpired, as it was when removed).
type Change struct {
	Kind  ChangeKind
	Event Event
	At    time.Time // when the change was committed
}

// ChangeFeed is the embedded store's transactional outbox: every change is
// written in the same transaction as the change itself, so the feed can never
// miss or invent one. (On AWS, DynamoDB Streams plays this role.)
type ChangeFeed interface {
	// Changes returns up to limit changes with sequence numbers greater than
	// after, in commit order. It returns an empty slice when there are none.
	Changes(ctx context.Context, after uint64, limit int) ([]SequencedChange, error)
	// Checkpoint returns the last sequence number the named consumer saved,
	// 0 if it never saved one.
	Checkpoint(ctx context.Context, consumer string) (uint64, error)
	// SaveCheckpoint durably records that the consumer has handled every
	// change up to and including seq. Changes every known consumer has
	// handled may be pruned.
	SaveCheckpoint(ctx context.Context, consumer string, seq uint64) error
}

// SequencedChange is a Change with its position in the feed.
type SequencedChange struct {
	Seq uint64
	Change
}

package event

import (
	"context"
	"time"
)

// Bounds on one DueDeliveries call.
const (
	DefaultDueLimit = 100
	MaxDueLimit     = 1000
)

// DeliverySchedule is the single binary's durable retry schedule: the
// embedded store keeps an index of pending deliveries by NextAttemptAt,
// written in the same transaction as ClaimDelivery and RecordAttempt, so a
// delivery due before a crash or restart is due after it. (On AWS the SQS
// retry queue's message delays hold the schedule instead, and the DynamoDB
// store does not implement this.)
//
// Errors are as for SubscriptionStore.
type DeliverySchedule interface {
	// DueDeliveries returns pending deliveries whose NextAttemptAt is at or
	// before now, oldest due first (ties by id), at most limit
	// (1..MaxDueLimit; anything else means DefaultDueLimit).
	//
	// It never returns a delivery whose subscription is gone or disabled:
	// it ends such a delivery (state failed, no attempt recorded) and takes
	// it off the schedule, so a caller that finds a returned delivery's
	// subscription gone may simply skip it. It takes no lease: a delivery
	// stays due until RecordAttempt moves it, so a caller polling while
	// attempts are in flight must skip the ids it is working on.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
}

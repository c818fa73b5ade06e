package sqsretry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/stream"
)

// HandlerOptions configure Handler.
type HandlerOptions struct {
	// Deliveries reads (and, for a message whose delivery is missing,
	// creates) deliveries (required).
	Deliveries stream.DeliveryClaimer
	// Attempt makes one attempt (required): stream.Deliverer.Attempt.
	Attempt func(ctx context.Context, d event.Delivery) (event.Delivery, error)
	// Queue schedules the next attempts and the hops (required).
	Queue *Queue
	// Now is the clock compared with due times. Nil means time.Now.
	Now func() time.Time
	// Concurrency bounds the messages of one batch handled at once. Zero
	// means all of them (a batch is at most 10).
	Concurrency int
	// Logger receives dropped and failed messages. Nil discards.
	Logger *slog.Logger
}

// earlyTolerance: a message arriving this close before its due time is
// attempted rather than hopped (SQS delays are whole seconds, rounded up).
const earlyTolerance = time.Second

// Handler returns the Lambda handler of the deliver function. For each
// message it makes the attempt it names, when that is still the
// delivery's next attempt and it is due, and schedules the one after.
//
// A message it could not handle (the stores or SQS failed, or it cannot be
// read) is reported in batchItemFailures: SQS makes it visible again after
// the visibility timeout, and after the queue's maxReceiveCount moves it to
// the dead-letter queue. Every other message is deleted by Lambda.
func Handler(o HandlerOptions) (func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), error) {
	if o.Deliveries == nil || o.Attempt == nil || o.Queue == nil {
		return nil, errors.New("sqsretry: a handler needs Deliveries, Attempt and Queue")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{o: o}
	return h.handle, nil
}

type handler struct{ o HandlerOptions }

func (h *handler) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	n := h.o.Concurrency
	if n <= 0 {
		n = max(len(ev.Records), 1)
	}
	sem := make(chan struct{}, n)
	failed := make([]bool, len(ev.Records))
	seen := make(map[string]bool, len(ev.Records))
	var wg sync.WaitGroup
	for i, msg := range ev.Records {
		// Copies of one message in one batch would be handled at once,
		// each finding the attempt not yet made: handle the first only.
		// (If it fails, SQS redelivers it; the copies are deleted.)
		if key, ok := attemptKey(msg); ok {
			if seen[key] {
				h.o.Logger.DebugContext(ctx, "deliver: copy of a message in the same batch; dropped", "message_id", msg.MessageId)
				continue
			}
			seen[key] = true
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := h.message(ctx, msg); err != nil {
				h.o.Logger.ErrorContext(ctx, "deliver: message failed; SQS will redeliver it", "message_id", msg.MessageId, "error", err.Error())
				failed[i] = true
			}
		})
	}
	wg.Wait()
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp, nil
}

// attemptKey names the attempt a valid message is for. (An invalid one is
// never a copy of another: it fails on its own, for the DLQ.)
func attemptKey(msg events.SQSMessage) (string, bool) {
	var m Message
	if err := json.Unmarshal([]byte(msg.Body), &m); err != nil || m.Validate() != nil {
		return "", false
	}
	return m.DeliveryID + "#" + strconv.Itoa(m.Attempt), true
}

// message handles one message; an error means SQS should deliver it again.
func (h *handler) message(ctx context.Context, msg events.SQSMessage) error {
	var m Message
	if err := json.Unmarshal([]byte(msg.Body), &m); err != nil {
		return fmt.Errorf("malformed message body: %w", err)
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("malformed message: %w", err)
	}
	log := h.o.Logger.With("delivery_id", m.DeliveryID, "attempt", m.Attempt)
	now := h.o.Now()
	if m.Due.After(now.Add(earlyTolerance)) {
		// A wait longer than SQS's 15-minute delay: hop on.
		return h.o.Queue.Schedule(ctx, m)
	}
	d, created, err := h.o.Deliveries.ClaimDelivery(ctx, event.NewDelivery(m.EventID, m.SubscriptionID, now))
	if err != nil {
		return fmt.Errorf("read delivery %s: %w", m.DeliveryID, err)
	}
	if created && m.Attempt > 1 {
		log.WarnContext(ctx, "deliver: the delivery record was missing; starting it afresh")
	}
	switch {
	case d.State != event.DeliveryPending:
		log.DebugContext(ctx, "deliver: delivery already finished; message dropped", "state", string(d.State))
		return nil
	case d.Attempts >= m.Attempt:
		// This attempt was made. If this is a redelivery, the earlier
		// handling may have failed between recording it and scheduling
		// the next one: schedule it (a duplicate is dropped here later).
		if d.Attempts == m.Attempt && receiveCount(msg) > 1 {
			log.InfoContext(ctx, "deliver: redelivered message of a recorded attempt; scheduling the next one")
			return h.o.Queue.Schedule(ctx, MessageFor(d))
		}
		log.DebugContext(ctx, "deliver: attempt already made; message dropped", "attempts", d.Attempts)
		return nil
	case d.Attempts < m.Attempt-1 && !created:
		log.WarnContext(ctx, "deliver: message ahead of the delivery's attempts; dropped", "attempts", d.Attempts)
		return nil
	case d.NextAttemptAt.After(now.Add(earlyTolerance)):
		return h.o.Queue.Schedule(ctx, MessageFor(d))
	}
	next, err := h.o.Attempt(ctx, d)
	if err != nil {
		return err
	}
	if next.State == event.DeliveryPending {
		if err := h.o.Queue.Schedule(ctx, MessageFor(next)); err != nil {
			return fmt.Errorf("attempt %d recorded, but: %w", next.Attempts, err)
		}
	}
	return nil
}

// receiveCount is SQS's ApproximateReceiveCount of the message, 1 when
// absent.
func receiveCount(msg events.SQSMessage) int {
	n, err := strconv.Atoi(msg.Attributes["ApproximateReceiveCount"])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

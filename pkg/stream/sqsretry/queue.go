package sqsretry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/triggershq/triggers/pkg/event"
)

// MaxDelay is the longest delay SQS gives one message (DelaySeconds 900).
const MaxDelay = 15 * time.Minute

// maxBatch is SendMessageBatch's limit of entries per call.
const maxBatch = 10

// Message is the body of a retry-queue message: which attempt of which
// delivery, and when it is due.
type Message struct {
	DeliveryID     string    `json:"delivery_id"`
	EventID        string    `json:"event_id"`
	SubscriptionID string    `json:"subscription_id"`
	Attempt        int       `json:"attempt"` // 1 for the first
	Due            time.Time `json:"due"`
}

// MessageFor returns the message of the next attempt of a pending delivery.
func MessageFor(d event.Delivery) Message {
	return Message{
		DeliveryID: d.ID, EventID: d.EventID, SubscriptionID: d.SubscriptionID,
		Attempt: d.Attempts + 1, Due: event.Timestamp(d.NextAttemptAt),
	}
}

// Validate checks a message read from the queue: well-formed ids that
// agree, an attempt number from 1, a due time.
func (m Message) Validate() error {
	evt, err := event.ParseID(m.EventID)
	if err != nil {
		return errors.New("event_id is not an event id")
	}
	sub, err := event.ParseID(m.SubscriptionID)
	if err != nil {
		return errors.New("subscription_id is not a subscription id")
	}
	if m.DeliveryID != event.DeliveryID(evt, sub) {
		return errors.New("delivery_id does not match event_id and subscription_id")
	}
	if m.Attempt < 1 {
		return errors.New("attempt must be at least 1")
	}
	if m.Due.IsZero() {
		return errors.New("due is missing")
	}
	return nil
}

// SQSAPI is the part of the SQS client a Queue uses.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Queue sends messages to the retry queue. It is safe for concurrent use.
type Queue struct {
	api SQSAPI
	url string
	now func() time.Time
}

// NewQueue returns a Queue on the queue at url. now is the clock the
// delays are computed with; nil means time.Now.
func NewQueue(api SQSAPI, url string, now func() time.Time) *Queue {
	if now == nil {
		now = time.Now
	}
	return &Queue{api: api, url: url, now: now}
}

// Handoff sends the first attempt of each delivery (a stream.Handoff), in
// batches of ten. It returns an error naming the deliveries SQS did not
// take; the stream record is then retried, and the deliveries sent again
// (duplicates are dropped by the deliver function).
func (q *Queue) Handoff(ctx context.Context, ds []event.Delivery) error {
	var failed []string
	for start := 0; start < len(ds); start += maxBatch {
		chunk := ds[start:min(start+maxBatch, len(ds))]
		entries := make([]types.SendMessageBatchRequestEntry, len(chunk))
		for i, d := range chunk {
			body, delay, err := q.encode(MessageFor(d))
			if err != nil {
				return err
			}
			entries[i] = types.SendMessageBatchRequestEntry{
				Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(body), DelaySeconds: delay,
			}
		}
		out, err := q.api.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
		if err != nil {
			return fmt.Errorf("send %d deliveries to the retry queue: %w", len(chunk), err)
		}
		for _, f := range out.Failed {
			i, err := strconv.Atoi(aws.ToString(f.Id))
			if err != nil || i < 0 || i >= len(chunk) {
				return fmt.Errorf("send to the retry queue: unexpected failed entry id %q", aws.ToString(f.Id))
			}
			failed = append(failed, chunk[i].ID+" ("+aws.ToString(f.Code)+")")
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("the retry queue refused %d deliveries: %s", len(failed), strings.Join(failed, ", "))
	}
	return nil
}

// Schedule sends one message, delayed until it is due or by MaxDelay,
// whichever is sooner (the deliver function hops it on from there).
func (q *Queue) Schedule(ctx context.Context, m Message) error {
	body, delay, err := q.encode(m)
	if err != nil {
		return err
	}
	_, err = q.api.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.url), MessageBody: aws.String(body), DelaySeconds: delay})
	if err != nil {
		return fmt.Errorf("schedule attempt %d of %s: %w", m.Attempt, m.DeliveryID, err)
	}
	return nil
}

func (q *Queue) encode(m Message) (string, int32, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", 0, fmt.Errorf("encode retry message: %w", err)
	}
	return string(b), DelaySeconds(m.Due.Sub(q.now())), nil
}

// DelaySeconds is the SQS delay for a wait: whole seconds rounded up (never
// early), from 0 to 900.
func DelaySeconds(wait time.Duration) int32 {
	if wait <= 0 {
		return 0
	}
	s := (wait + time.Second - 1) / time.Second
	return int32(min(s, MaxDelay/time.Second))
}

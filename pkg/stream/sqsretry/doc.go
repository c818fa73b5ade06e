// Package sqsretry carries webhook deliveries through the SQS retry queue
// on AWS: the stream function hands each new delivery to the queue
// (Queue.Handoff) instead of calling its target, and the deliver function
// (Handler) takes messages off it, makes the attempt through
// stream.Deliverer, and puts the next attempt back with a delay.
//
// A message names one attempt of one delivery (Message). The queue holds
// the schedule: SQS delays a message by at most 15 minutes, so a longer
// wait is made of several hops, each message carrying the time the attempt
// is due. The delivery log in DynamoDB stays the truth: a message whose
// attempt was already made, or whose delivery is no longer pending, is
// dropped, so duplicated or replayed messages do not repeat attempts, and
// copies of one message in one batch are handled once. Two copies that two
// instances handle at the same moment can both send (receivers drop the
// repeated webhook-id); the delivery log then keeps the state that ended
// the delivery (event.Delivery.Supersedes).
package sqsretry

// Command stream is the DynamoDB Streams consumer: every change to an event
// item becomes metrics (EMF lines on stdout) and, for a new event, one
// delivery per matching subscription, handed to the SQS retry queue for
// functions/deliver. It never calls a webhook target itself, so a slow or
// dead target cannot hold up the shard.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/triggershq/triggers/pkg/lambdaenv"
	"github.com/triggershq/triggers/pkg/lambdaenv/tablestore"
	"github.com/triggershq/triggers/pkg/metrics"
	"github.com/triggershq/triggers/pkg/stream"
	"github.com/triggershq/triggers/pkg/stream/dynamodbstreams"
	"github.com/triggershq/triggers/pkg/stream/sqsretry"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "stream:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	env, err := lambdaenv.Setup(ctx, os.Getenv, lambdaenv.NeedTable, lambdaenv.NeedRetryQueueURL)
	if err != nil {
		return err
	}
	_, store, err := tablestore.Open(env)
	if err != nil {
		return err
	}
	queue := sqsretry.NewQueue(sqs.NewFromConfig(env.AWS), env.RetryQueueURL, nil)
	emf := metrics.NewEMF(os.Stdout, env.MetricsNamespace, nil)
	consumer, err := stream.NewConsumer(stream.ConsumerOptions{
		Subscriptions: store, Deliveries: store, Handoff: queue.Handoff, Metrics: emf, Logger: env.Log,
	})
	if err != nil {
		return err
	}
	handler := dynamodbstreams.Handler(consumer.Handle, dynamodbstreams.Options{Logger: env.Log})
	lambda.StartHandlerFunc(lambdaenv.Flushed(handler, emf.Flush, env.Log))
	return nil
}

// Command deliver consumes the webhook retry queue: each message is one
// attempt of one delivery, made when it is due, recorded in the table, and
// followed by a message for the next attempt (with an SQS delay) when the
// retry policy allows one.
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
	"github.com/triggershq/triggers/pkg/stream/sqsretry"
	"github.com/triggershq/triggers/pkg/webhook"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "deliver:", err)
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
	emf := metrics.NewEMF(os.Stdout, env.MetricsNamespace, nil)
	sender := webhook.NewSender(webhook.Options{AllowPrivateNetworks: env.AllowPrivateWebhooks})
	deliverer, err := stream.NewDeliverer(stream.DelivererOptions{
		Events: store, Subscriptions: store, Deliveries: store, Sender: sender, Metrics: emf, Logger: env.Log,
	})
	if err != nil {
		return err
	}
	handler, err := sqsretry.Handler(sqsretry.HandlerOptions{
		Deliveries: store, Attempt: deliverer.Attempt,
		Queue:  sqsretry.NewQueue(sqs.NewFromConfig(env.AWS), env.RetryQueueURL, nil),
		Logger: env.Log,
	})
	if err != nil {
		return err
	}
	lambda.StartHandlerFunc(lambdaenv.Flushed(handler, emf.Flush, env.Log))
	return nil
}

// Command subscriptions is the Lambda function behind /subscriptions: the
// REST hook subscriptions and their delivery attempts. It sits behind the
// Lambda authorizer. Target URLs are vetted by the webhook sender's SSRF
// rules before a subscription is stored, as in the single binary.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/triggershq/triggers/pkg/httpapi"
	"github.com/triggershq/triggers/pkg/lambdaenv"
	"github.com/triggershq/triggers/pkg/lambdaenv/tablestore"
	"github.com/triggershq/triggers/pkg/routes"
	"github.com/triggershq/triggers/pkg/webhook"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "subscriptions:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	env, err := lambdaenv.Setup(ctx, os.Getenv, lambdaenv.NeedTable)
	if err != nil {
		return err
	}
	_, store, err := tablestore.Open(env)
	if err != nil {
		return err
	}
	checker := webhook.NewSender(webhook.Options{AllowPrivateNetworks: env.AllowPrivateWebhooks})
	api, err := env.API(httpapi.Config{Store: store, Subscriptions: store, Deliveries: store, TargetChecker: checker})
	if err != nil {
		return err
	}
	lambda.StartHandlerFunc(env.HTTP(api, routes.FuncSubscriptions))
	return nil
}

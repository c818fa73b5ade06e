// Command authorizer is the API Gateway Lambda authorizer (payload format
// 2.0, simple responses) of every route that needs a token. It verifies the
// bearer token against the credentials secret, through the cached keyring,
// and needs nothing else: no table, no HTTP handlers.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/triggershq/triggers/pkg/apigw"
	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/lambdaenv"
	"github.com/triggershq/triggers/pkg/metrics"
	"github.com/triggershq/triggers/pkg/secrets"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "authorizer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	env, err := lambdaenv.Setup(ctx, os.Getenv, lambdaenv.NeedSecret)
	if err != nil {
		return err
	}
	ring, err := secrets.New(secrets.NewClient(env.AWS), env.SecretID, secrets.Options{TTL: env.SecretTTL, Logger: env.Log})
	if err != nil {
		return err
	}
	authn, err := auth.New(auth.Config{Keyring: ring})
	if err != nil {
		return err
	}
	emf := metrics.NewEMF(os.Stdout, env.MetricsNamespace, nil)
	authorize := apigw.Authorizer(authn, apigw.AuthorizerOptions{Logger: env.Log})
	lambda.StartHandlerFunc(lambdaenv.Flushed(func(ctx context.Context, req events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
		resp, err := authorize(ctx, req)
		if err == nil && !resp.IsAuthorized {
			emf.Add(metrics.AuthorizerDenied, 1)
		}
		return resp, err
	}, emf.Flush, env.Log))
	return nil
}

// Command token is the Lambda function behind POST /token: it exchanges an
// API key for a bearer token. It reads the credentials secret (through the
// cached keyring) and keeps the brute-force limit's state in the table, so
// the limit holds across all of its instances.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/httpapi"
	"github.com/triggershq/triggers/pkg/lambdaenv"
	"github.com/triggershq/triggers/pkg/lambdaenv/tablestore"
	"github.com/triggershq/triggers/pkg/routes"
	"github.com/triggershq/triggers/pkg/secrets"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "token:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	env, err := lambdaenv.Setup(ctx, os.Getenv, lambdaenv.NeedTable, lambdaenv.NeedSecret)
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
	// httpapi requires a store; POST /token never touches it.
	db, store, err := tablestore.Open(env)
	if err != nil {
		return err
	}
	limiter, err := dynamostore.NewLimiter(db, dynamostore.LimiterOptions{Table: env.Table})
	if err != nil {
		return err
	}
	api, err := env.API(httpapi.Config{Store: store, Auth: authn, Limiter: limiter})
	if err != nil {
		return err
	}
	lambda.StartHandlerFunc(env.HTTP(api, routes.FuncToken))
	return nil
}

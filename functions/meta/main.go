// Command meta is the Lambda function behind the public GET /health (and the
// API's documentation routes as they are added). It needs the store, to
// report whether it can reach it, and nothing secret.
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
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "meta:", err)
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
	api, err := env.API(httpapi.Config{Store: store})
	if err != nil {
		return err
	}
	lambda.StartHandlerFunc(env.HTTP(api, routes.FuncMeta))
	return nil
}

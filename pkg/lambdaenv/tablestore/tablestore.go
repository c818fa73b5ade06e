// Package tablestore opens the DynamoDB store the way every table-backed
// Lambda function needs it, from the function's environment. It lives
// apart from lambdaenv so that functions without a table (the authorizer)
// never link the DynamoDB client.
package tablestore

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/httpapi"
	"github.com/triggershq/triggers/pkg/lambdaenv"
)

// Open returns the DynamoDB client (with the store's bounded retries) and
// the store on TRIGGERS_TABLE, sharded by TRIGGERS_PENDING_SHARDS, keeping
// deliveries as long as events (TRIGGERS_RETENTION).
func Open(env *lambdaenv.Env) (*dynamodb.Client, *dynamostore.Store, error) {
	db := dynamostore.NewClient(env.AWS, dynamostore.ClientOptions{})
	store, err := dynamostore.New(db, dynamostore.Options{
		Table:             env.Table,
		PendingShards:     env.PendingShards,
		DeliveryRetention: env.Retention,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("dynamodb store: %w", err)
	}
	return db, store, nil
}

// Main is the whole main of an HTTP function whose routes need only the
// event store — ingest, inbox, ack, meta: they sit behind the Lambda
// authorizer (or are public), so they get no keyring and no access to the
// secret. It wires the function from its environment and serves its routes
// (routes.ForFunction); it returns only if the wiring fails, and then the
// process exits 1 with the reason on stderr, which Lambda logs as an init
// error.
func Main(function string) {
	if err := serveRoutes(context.Background(), function); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", function, err)
		os.Exit(1)
	}
}

func serveRoutes(ctx context.Context, function string) error {
	env, err := lambdaenv.Setup(ctx, os.Getenv, lambdaenv.NeedTable)
	if err != nil {
		return err
	}
	_, store, err := Open(env)
	if err != nil {
		return err
	}
	api, err := env.API(httpapi.Config{Store: store})
	if err != nil {
		return err
	}
	lambda.StartHandlerFunc(env.HTTP(api, function))
	return nil
}

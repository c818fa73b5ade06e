// Package tablestore opens the DynamoDB store the way every table-backed
// Lambda function needs it, from the function's environment. It lives
// apart from lambdaenv so that functions without a table (the authorizer)
// never link the DynamoDB client.
package tablestore

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/triggershq/triggers/pkg/dynamostore"
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

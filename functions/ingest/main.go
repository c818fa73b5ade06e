// Command ingest is the Lambda function behind POST /events. It sits behind
// the Lambda authorizer, so it has no keyring and no access to the secret:
// the caller's principal arrives in the authorizer's context.
package main

import (
	"github.com/triggershq/triggers/pkg/lambdaenv/tablestore"
	"github.com/triggershq/triggers/pkg/routes"
)

func main() { tablestore.Main(routes.FuncIngest) }

// Command meta is the Lambda function behind the public GET /health,
// GET /openapi.json and GET /docs. It needs the store, to report whether it
// can reach it, and nothing secret.
package main

import (
	"github.com/triggershq/triggers/pkg/lambdaenv/tablestore"
	"github.com/triggershq/triggers/pkg/routes"
)

func main() { tablestore.Main(routes.FuncMeta) }

// Package routes is the one table of the HTTP API's routes: which handler
// serves each, which AWS Lambda function hosts it, and what it requires.
// The HTTP handlers, the OpenAPI contract test and the CDK stack all read
// this table, so the three cannot drift apart. It imports nothing.
package routes

// Route is one method and path of the HTTP API.
type Route struct {
	Method string // "GET", "POST", "DELETE"
	// Path is the Go 1.22 ServeMux pattern path, e.g. "/inbox/{id}/ack";
	// API Gateway and OpenAPI use the same {name} syntax.
	Path string
	// Function is the directory under functions/ that serves the route on AWS.
	Function string
	// Public routes need no token; every other route goes through the
	// Lambda authorizer on AWS and the auth middleware locally.
	Public bool
	// Scope is the scope a token must carry, "" for any valid token.
	Scope string
	// Summary is a one-line description for the docs.
	Summary string
}

// Pattern returns the ServeMux pattern, e.g. "POST /inbox/{id}/ack".
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// Function names (directories under functions/) that serve HTTP routes.
const (
	FuncToken         = "token"
	FuncIngest        = "ingest"
	FuncInbox         = "inbox"
	FuncAck           = "ack"
	FuncSubscriptions = "subscriptions"
	FuncMeta          = "meta"
)

// Table is every route of the HTTP API.
var Table = []Route{
	{Method: "GET", Path: "/health", Function: FuncMeta, Public: true, Summary: "Liveness and store health"},
	{Method: "POST", Path: "/token", Function: FuncToken, Public: true, Summary: "Exchange an API key for a bearer token"},
	{Method: "POST", Path: "/events", Function: FuncIngest, Scope: "events:write", Summary: "Create an event"},
	{Method: "GET", Path: "/events/{id}", Function: FuncInbox, Summary: "Get one event"},
	{Method: "GET", Path: "/inbox", Function: FuncInbox, Scope: "inbox:read", Summary: "List pending events, newest first"},
	{Method: "POST", Path: "/inbox/{id}/ack", Function: FuncAck, Scope: "inbox:ack", Summary: "Acknowledge an event"},
	{Method: "POST", Path: "/subscriptions", Function: FuncSubscriptions, Scope: "subscriptions:manage", Summary: "Subscribe a webhook (REST hook)"},
	{Method: "GET", Path: "/subscriptions", Function: FuncSubscriptions, Scope: "subscriptions:manage", Summary: "List webhook subscriptions"},
	{Method: "GET", Path: "/subscriptions/{id}", Function: FuncSubscriptions, Scope: "subscriptions:manage", Summary: "Get one webhook subscription"},
	{Method: "DELETE", Path: "/subscriptions/{id}", Function: FuncSubscriptions, Scope: "subscriptions:manage", Summary: "Unsubscribe a webhook"},
	{Method: "GET", Path: "/subscriptions/{id}/deliveries", Function: FuncSubscriptions, Scope: "subscriptions:manage", Summary: "List the delivery attempts of a subscription, newest first"},
	{Method: "GET", Path: "/openapi.json", Function: FuncMeta, Public: true, Summary: "The OpenAPI 3.1 document of this API"},
	{Method: "GET", Path: "/docs", Function: FuncMeta, Public: true, Summary: "API reference page (renders /openapi.json)"},
}

// ForFunction returns the routes a function serves.
func ForFunction(name string) []Route {
	var out []Route
	for _, r := range Table {
		if r.Function == name {
			out = append(out, r)
		}
	}
	return out
}

// Package httpapi is the HTTP face of Triggers: one plain http.Handler per
// route of the route table (pkg/routes), wrapped in the middleware every
// route shares (request id, panic recovery, access log, auth, security
// headers), answering every error as RFC 9457 application/problem+json.
//
// The same handlers serve the single binary (Handler mounts every route) and
// AWS Lambda behind API Gateway (FunctionHandler mounts the routes of one
// function, and the API Gateway adapter converts events to *http.Request).
// An API holds no process-global state: everything it needs comes from its
// Config, so several can live in one process (tests do exactly that).
//
// # Errors
//
// Handlers return errors instead of writing them. The one table in
// problem.go maps an error's event.Code to an HTTP status; an *event.Error's
// Message is what the client sees, its Err (the cause) goes to the log only,
// and CodeInternal is always answered with a generic detail. Bad input must
// never reach the 5xx branch: the tests and fuzz targets hold us to that.
//
// # Principals
//
// A non-public route takes the caller's auth.Principal from the request
// context when one is there (the API Gateway adapter puts the Lambda
// authorizer's verdict there) and otherwise verifies the Authorization header
// with the configured *auth.Authenticator. Either way, the route's scope is
// checked here, so a misconfigured authorizer cannot widen access.
//
// docs/api.md is the contract as built; keep it in step with this package.
package httpapi

// Package apigw runs plain net/http handlers behind Amazon API Gateway HTTP
// APIs (payload format 2.0), and is the Lambda authorizer that protects them.
//
// Handler turns an events.APIGatewayV2HTTPRequest into an *http.Request, runs
// the handler against an in-memory ResponseWriter and returns its answer as an
// events.APIGatewayV2HTTPResponse, so the very handlers `triggers serve`
// mounts also serve each Lambda function. The mapping rules (what is taken
// from where, what is trusted) are written down in docs/lambda.md; the short
// version:
//
//   - The method, path and query come from requestContext.http.method,
//     rawPath and rawQueryString. API Gateway hands rawPath over already
//     percent-decoded, so it becomes URL.Path as is (a decoded '?' stays in
//     the path). A named stage's "/<stage>" prefix is removed. Path
//     parameters are not copied from the event: the handler's ServeMux derives
//     them from the path, so they cannot disagree.
//   - Headers keep API Gateway's comma-joined values; cookies become one
//     Cookie header; base64 bodies are decoded; RemoteAddr is the client's
//     requestContext.http.sourceIp; X-Request-Id defaults to
//     requestContext.requestId.
//   - The caller's identity is read only from requestContext.authorizer.lambda,
//     which only our authorizer can fill, and never from a header.
//   - A malformed event is answered with a 400 problem+json, never with a Go
//     error (API Gateway would turn that into a bare 502).
//
// Authorizer is the other half: an API Gateway Lambda authorizer (payload
// format 2.0, simple responses) that verifies the bearer token with the same
// auth.Authenticator as the single binary and passes the principal on in its
// context.
package apigw

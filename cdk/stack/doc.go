// Package stack is the AWS CDK definition of a Triggers deployment: one
// CloudFormation stack holding the HTTP API (one route per entry of
// pkg/routes.Table, the JWT Lambda authorizer on every non-public route),
// one Lambda function per directory under functions/, the single DynamoDB
// table and its stream consumer, the webhook retry queue, the credentials
// secret, and the dashboard and alarms.
//
// It lives in its own Go module (github.com/triggershq/triggers/cdk) so that
// no Lambda binary ever links CDK or jsii; it reads the parent module only
// for the route table. New validates its inputs and returns errors; the
// only panics left are jsii's, on a CDK misuse this package's tests cover.
//
// docs/deploy.md explains every choice made here and every context key.
package stack

package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/triggershq/triggers/pkg/routes"
)

// grantAll writes every function's permissions by hand. CDK's grant*
// helpers are avoided where they are broader than what the code does
// (grantReadWriteData gives BatchWrite/Scan/ConditionCheck and the index
// ARNs to everyone; grantStreamRead adds dynamodb:ListStreams on "*";
// secret.grantRead adds DescribeSecret). The two that remain are scoped to
// one queue ARN each: the SQS event source's consume grant and the stream
// mapping's on-failure destination's send grant.
//
// Every role can write its own log group and nothing else in CloudWatch
// Logs: the group exists before the function, so no logs:CreateLogGroup.
//
// When a function starts using a new DynamoDB action, add it here; the
// deployed function fails with AccessDeniedException until then, which is
// the point.
func (b *builder) grantAll() {
	tableArn := *b.table.TableArn()
	table := []string{tableArn}
	indexes := []string{tableArn + "/index/" + IndexPending, tableArn + "/index/" + IndexPendingByType}
	secret := []string{*b.secret.SecretArn()}
	retryQueue := []string{*b.retryQueue.QueueArn()}

	for _, spec := range Functions {
		p := b.fns[spec.Name]
		p.role.AddToPrincipalPolicy(allow([]string{"logs:CreateLogStream", "logs:PutLogEvents"}, []string{*p.logs.LogGroupArn()}))
		switch spec.Name {
		case routes.FuncToken:
			p.role.AddToPrincipalPolicy(allow([]string{"secretsmanager:GetSecretValue"}, secret))
			// The attempt limiter (pkg/dynamostore.Limiter: GetItem, UpdateItem
			// ADD, PutItem to replace a closed window) is all the token
			// function does with the table, so it is held to partition keys
			// starting with RL#: a bug in the one unauthenticated write path
			// cannot read or change events.
			p.role.AddToPrincipalPolicy(leadingKeys([]string{"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"}, table, RateLimitKeyPrefix))
		case FuncAuthorizer:
			// Reads the key set and nothing else: no table, no queue.
			p.role.AddToPrincipalPolicy(allow([]string{"secretsmanager:GetSecretValue"}, secret))
		case routes.FuncIngest:
			// Conditional PutItem of the event (and its idempotency record);
			// GetItem to answer a replayed Idempotency-Key.
			p.role.AddToPrincipalPolicy(allow([]string{"dynamodb:PutItem", "dynamodb:GetItem"}, table))
		case routes.FuncInbox:
			p.role.AddToPrincipalPolicy(allow([]string{"dynamodb:GetItem"}, table))
			p.role.AddToPrincipalPolicy(allow([]string{"dynamodb:Query"}, indexes))
		case routes.FuncAck:
			p.role.AddToPrincipalPolicy(allow([]string{"dynamodb:UpdateItem", "dynamodb:GetItem"}, table))
		case routes.FuncSubscriptions:
			// Subscription CRUD and GET /subscriptions/{id}/deliveries, all on
			// base-table partitions (SUB#, DLV#); UpdateItem moves the
			// subscription counter that enforces the cap on create and delete.
			p.role.AddToPrincipalPolicy(allow([]string{"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"}, table))
		case routes.FuncMeta:
			// GET /health reads one sentinel key (pkg/dynamostore's Ping:
			// GetItem of PING#, half a read unit, not the rate-limited
			// DescribeTable); /openapi.json and /docs read nothing.
			p.role.AddToPrincipalPolicy(leadingKeys([]string{"dynamodb:GetItem"}, table, PingKeyPrefix))
		case FuncStream:
			// The event source mapping polls with the function's role. The
			// resource is this table's streams only (AWS's documented
			// pattern), not "*".
			p.role.AddToPrincipalPolicy(allow([]string{
				"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams",
			}, []string{tableArn + "/stream/*"}))
			// Subscriptions lookup and delivery records.
			p.role.AddToPrincipalPolicy(allow([]string{"dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}, table))
			p.role.AddToPrincipalPolicy(allow([]string{"sqs:SendMessage"}, retryQueue))
		case FuncDeliver:
			// Delivery records (RecordAttempt is one TransactWriteItems, which
			// IAM checks as its Put/Update parts), disabling a failing
			// subscription, deleting one on 410 Gone, and Query for the
			// recent attempts the disable rule reads.
			p.role.AddToPrincipalPolicy(allow([]string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"}, table))
			// Re-enqueue with a delay for the next attempt.
			p.role.AddToPrincipalPolicy(allow([]string{"sqs:SendMessage"}, retryQueue))
		}
	}
}

// leadingKeys allows actions only on items whose partition key starts with
// prefix.
func leadingKeys(actions, resources []string, prefix string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Effect:    awsiam.Effect_ALLOW,
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(resources...),
		Conditions: &map[string]interface{}{
			"ForAllValues:StringLike": map[string]interface{}{"dynamodb:LeadingKeys": []string{prefix + "*"}},
		},
	})
}

func allow(actions, resources []string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Effect:    awsiam.Effect_ALLOW,
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(resources...),
	})
}

package stack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/triggershq/triggers/pkg/routes"
)

// Names fixed by the storage contract (the DynamoDB store and this stack
// must agree on them).
const (
	IndexPending       = "gsi1" // gsi1pk = PENDING#<shard>, gsi1sk = event id
	IndexPendingByType = "gsi2" // gsi2pk = PTYPE#<type>#<shard>, gsi2sk = event id
	TTLAttribute       = "ttl"
	// EventKeyPrefix starts the partition key of event items, the only
	// items the stream consumer is given.
	EventKeyPrefix = "EVT#"
	// RateLimitKeyPrefix starts the token attempt limiter's items, the
	// only items the token function may touch.
	RateLimitKeyPrefix = "RL#"
	// PingKeyPrefix starts the sentinel key the health check reads, the
	// only item the meta function may read.
	PingKeyPrefix = "PING#"
)

// Props configures New.
type Props struct {
	Config Config
	// Routes is the HTTP API's route table; nil means routes.Table. Tests
	// pass a longer table to prove the stack follows it.
	Routes []routes.Route
}

// builder carries what the parts of the stack share while it is built.
type builder struct {
	cfg    Config
	routes []routes.Route
	stack  awscdk.Stack

	table      awsdynamodb.Table
	secret     awssecretsmanager.Secret
	retryQueue awssqs.Queue
	retryDLQ   awssqs.Queue
	streamDLQ  awssqs.Queue
	fns        map[string]*fnParts

	api        awsapigatewayv2.HttpApi
	stage      awsapigatewayv2.HttpStage
	alarmTopic awssns.Topic
}

// New adds the Triggers stack to scope. It checks the configuration, the
// route table and the function zips first, so a bad input is an error here
// rather than a jsii panic or a failed deployment.
func New(scope constructs.Construct, p Props) (awscdk.Stack, error) {
	if err := p.Config.Validate(); err != nil {
		return nil, err
	}
	rt := p.Routes
	if rt == nil {
		rt = routes.Table
	}
	if err := checkRoutes(rt); err != nil {
		return nil, err
	}
	if err := checkZips(p.Config.Dist); err != nil {
		return nil, err
	}

	b := &builder{cfg: p.Config, routes: rt}
	b.stack = awscdk.NewStack(scope, jsii.String(p.Config.StackName), &awscdk.StackProps{
		StackName:   jsii.String(p.Config.StackName),
		Description: jsii.String("Triggers event inbox: HTTP API, Lambda functions, DynamoDB, webhooks (" + p.Config.StackName + ")"),
	})
	// cfn-lint's resource schema has no Tags on AWS::CloudWatch::Dashboard
	// (E3002), so dashboards are left untagged.
	tagProps := &awscdk.TagProps{ExcludeResourceTypes: jsii.Strings("AWS::CloudWatch::Dashboard")}
	awscdk.Tags_Of(b.stack).Add(jsii.String("app"), jsii.String("triggers"), tagProps)
	awscdk.Tags_Of(b.stack).Add(jsii.String("triggers:stack"), jsii.String(p.Config.StackName), tagProps)

	b.addTable()
	b.addSecret()
	b.addQueues()
	b.addFunctions()
	b.grantAll()
	b.addAPI()
	b.addEventSources()
	b.addObservability()
	b.addOutputs()
	return b.stack, nil
}

// checkRoutes rejects a table the stack cannot deploy faithfully: a route
// served by a function the stack does not build, or two routes with one key.
func checkRoutes(rt []routes.Route) error {
	seen := map[string]bool{}
	for _, r := range rt {
		spec, ok := FunctionSpecByName(r.Function)
		if !ok || !spec.HTTP {
			return fmt.Errorf("route %s: function %q is not an HTTP function of the stack (have %v)", r.Pattern(), r.Function, httpFunctions())
		}
		switch r.Method {
		case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS":
		default:
			return fmt.Errorf("route %s: unsupported method %q", r.Pattern(), r.Method)
		}
		if len(r.Path) == 0 || r.Path[0] != '/' {
			return fmt.Errorf("route %s: path must start with /", r.Pattern())
		}
		if seen[r.Pattern()] {
			return fmt.Errorf("route %s: declared twice", r.Pattern())
		}
		seen[r.Pattern()] = true
	}
	return nil
}

// removalPolicy is what happens to stateful resources when the stack is
// deleted.
func (b *builder) removalPolicy() awscdk.RemovalPolicy {
	if b.cfg.RetainData {
		return awscdk.RemovalPolicy_RETAIN
	}
	return awscdk.RemovalPolicy_DESTROY
}

// addTable creates the single table exactly as the storage contract says.
func (b *builder) addTable() {
	str := awsdynamodb.AttributeType_STRING
	b.table = awsdynamodb.NewTable(b.stack, jsii.String("Events"), &awsdynamodb.TableProps{
		TableName:           jsii.String("zapier-triggers-events-" + b.cfg.StackName),
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: str},
		SortKey:             &awsdynamodb.Attribute{Name: jsii.String("sk"), Type: str},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String(TTLAttribute),
		Stream:              awsdynamodb.StreamViewType_NEW_AND_OLD_IMAGES,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		DeletionProtection: jsii.Bool(b.cfg.RetainData),
		RemovalPolicy:      b.removalPolicy(),
	})
	for _, gsi := range []string{IndexPending, IndexPendingByType} {
		b.table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(gsi),
			PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(gsi + "pk"), Type: str},
			SortKey:        &awsdynamodb.Attribute{Name: jsii.String(gsi + "sk"), Type: str},
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
}

// addSecret creates the credentials secret with a generated first JWT
// signing key, in the one credentials format (see docs/deploy.md for adding
// API keys and rotating the key).
func (b *builder) addSecret() {
	b.secret = awssecretsmanager.NewSecret(b.stack, jsii.String("Credentials"), &awssecretsmanager.SecretProps{
		SecretName:  jsii.String("zapier-api-credentials-" + b.cfg.StackName),
		Description: jsii.String("Triggers credentials: JWT signing keys (jwt_key_<kid>, active_kid) and API key hashes (api_keys)"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(`{"active_kid":"initial","api_keys":[]}`),
			GenerateStringKey:    jsii.String("jwt_key_initial"),
			PasswordLength:       jsii.Number(64),
			ExcludePunctuation:   jsii.Bool(true),
		},
		RemovalPolicy: b.removalPolicy(),
	})
}

// addQueues creates the webhook retry queue with its DLQ and the stream
// mapping's on-failure DLQ. All are encrypted with SQS-managed keys and
// refuse non-TLS requests.
func (b *builder) addQueues() {
	dlq := func(id, name string) awssqs.Queue {
		return awssqs.NewQueue(b.stack, jsii.String(id), &awssqs.QueueProps{
			QueueName:       jsii.String(name),
			Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:      jsii.Bool(true),
			RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		})
	}
	b.streamDLQ = dlq("StreamDLQ", b.cfg.StackName+"-stream-dlq")
	b.retryDLQ = dlq("RetryDLQ", b.cfg.StackName+"-retry-dlq")

	deliver, _ := FunctionSpecByName(FuncDeliver)
	b.retryQueue = awssqs.NewQueue(b.stack, jsii.String("RetryQueue"), &awssqs.QueueProps{
		QueueName:  jsii.String(b.cfg.StackName + "-retry"),
		Encryption: awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL: jsii.Bool(true),
		// AWS's rule for SQS event sources: at least six times the
		// consumer's timeout, so a message is not redelivered while a slow
		// batch (and the poller's retries) still holds it.
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(RetryVisibilityFactor * deliver.Timeout.Seconds())),
		// Shorter than the DLQ's 14 days: a dead-lettered message keeps its
		// original enqueue time, so the DLQ must outlive the source queue.
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(4)),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           b.retryDLQ,
			MaxReceiveCount: jsii.Number(RetryMaxReceiveCount),
		},
	})
}

// RetryVisibilityFactor is the retry queue's visibility timeout in units of
// the deliver function's timeout.
const RetryVisibilityFactor = 6

// RetryMaxReceiveCount is how many times deliver may fail to process one
// retry message (its own failure, not the webhook's: webhook failures are
// re-enqueued with a delay by deliver itself) before it is dead-lettered.
const RetryMaxReceiveCount = 5

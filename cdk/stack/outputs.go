package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// Output names of the stack (`aws cloudformation describe-stacks` and
// cdk deploy's summary show them; docs/deploy.md uses them).
const (
	OutputApiURL           = "ApiUrl"
	OutputTableName        = "TableName"
	OutputSecretArn        = "SecretArn"
	OutputRetryQueueURL    = "RetryQueueUrl"
	OutputRetryDLQURL      = "RetryDlqUrl"
	OutputStreamDLQURL     = "StreamDlqUrl"
	OutputAlarmTopicArn    = "AlarmTopicArn"
	OutputDashboardName    = "DashboardName"
	OutputMetricsNamespace = "MetricsNamespace"
)

func (b *builder) addOutputs() {
	out := func(id, desc string, value *string) {
		awscdk.NewCfnOutput(b.stack, jsii.String(id), &awscdk.CfnOutputProps{
			Value:       value,
			Description: jsii.String(desc),
		})
	}
	out(OutputApiURL, "Base URL of the API (no trailing path): POST $ApiUrl/token", b.api.ApiEndpoint())
	out(OutputTableName, "DynamoDB table (TRIGGERS_TABLE)", b.table.TableName())
	out(OutputSecretArn, "Credentials secret (TRIGGERS_SECRET_ID): API key hashes and JWT keys", b.secret.SecretArn())
	out(OutputRetryQueueURL, "Webhook retry queue", b.retryQueue.QueueUrl())
	out(OutputRetryDLQURL, "Webhook retry dead-letter queue", b.retryDLQ.QueueUrl())
	out(OutputStreamDLQURL, "Stream consumer on-failure queue", b.streamDLQ.QueueUrl())
	out(OutputAlarmTopicArn, "SNS topic the alarms notify", b.alarmTopic.TopicArn())
	out(OutputDashboardName, "CloudWatch dashboard", jsii.String(b.cfg.StackName))
	out(OutputMetricsNamespace, "CloudWatch namespace of the functions' EMF metrics", jsii.String(MetricsNamespace(b.cfg.StackName)))
}

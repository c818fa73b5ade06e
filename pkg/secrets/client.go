package secrets

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Client retry budget: three attempts of at most 2 s each, with the SDK's
// standard backoff, fit inside DefaultFetchTimeout, which fits inside the
// authorizer's 10 s limit, so a slow Secrets Manager turns into our 503 (or a
// stale-but-valid key set) rather than a gateway timeout.
const (
	clientMaxAttempts    = 3
	clientAttemptTimeout = 2 * time.Second
)

// NewClient returns a Secrets Manager client for cfg with that bounded retry
// budget. The SDK resolves the endpoint as usual, including from
// AWS_ENDPOINT_URL (moto_server in tests). optFns are applied last.
func NewClient(cfg aws.Config, optFns ...func(*secretsmanager.Options)) *secretsmanager.Client {
	base := func(o *secretsmanager.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = clientMaxAttempts })
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(clientAttemptTimeout)
	}
	return secretsmanager.NewFromConfig(cfg, append([]func(*secretsmanager.Options){base}, optFns...)...)
}

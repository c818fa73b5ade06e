package secrets

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Client retry budget: up to three attempts of at most 2 s each, with the
// SDK's standard backoff; the keyring's FetchTimeout (3 s by default) cuts
// the whole call short first, well inside the authorizer's 5 s Lambda
// timeout, so a slow Secrets Manager turns into a stale-but-valid key set or
// our 503 rather than a killed invocation.
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

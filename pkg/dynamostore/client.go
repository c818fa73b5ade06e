package dynamostore

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// ClientOptions tunes the DynamoDB client that NewClient builds. The zero
// value is the production setting.
type ClientOptions struct {
	// Endpoint overrides the service endpoint (moto_server in tests, e.g.
	// "http://127.0.0.1:5000"). Empty keeps the SDK's resolution, which also
	// honours the standard AWS_ENDPOINT_URL variables.
	Endpoint string
	// MaxAttempts bounds the attempts per request, the first included
	// (default 3).
	MaxAttempts int
	// MaxBackoff caps the delay between attempts (default 500ms).
	MaxBackoff time.Duration
	// AttemptTimeout bounds one HTTP attempt, so a stuck connection is
	// retried instead of eating the whole Lambda timeout (default 3s).
	AttemptTimeout time.Duration
}

// Retry budget defaults. With these, the worst case for one call that keeps
// failing is 3 attempts of at most 3 s plus two backoffs of at most 500 ms:
// 10 s, inside API Gateway's 29 s integration timeout and a 15 s Lambda
// timeout, so the client gets our 503 rather than a gateway timeout.
const (
	DefaultMaxAttempts    = 3
	DefaultMaxBackoff     = 500 * time.Millisecond
	DefaultAttemptTimeout = 3 * time.Second
)

// NewClient returns a DynamoDB client for cfg with the retry budget and
// timeouts the store is designed around: the SDK's standard retryer
// (exponential backoff with jitter, and its client-wide retry token bucket,
// which stops retries when most recent attempts are failing) with at most
// MaxAttempts attempts and MaxBackoff between them. After that budget the
// store reports throttling and transient errors as event.CodeUnavailable.
//
// functions/* and cmd/triggers share it, so every deployment retries alike.
// optFns are applied last (tests use them to add middleware).
func NewClient(cfg aws.Config, opts ClientOptions, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = DefaultAttemptTimeout
	}
	base := []func(*dynamodb.Options){func(o *dynamodb.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = opts.MaxAttempts
			so.MaxBackoff = opts.MaxBackoff
			so.BaseDelay = 25 * time.Millisecond // the SDK's DynamoDB default
		})
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(opts.AttemptTimeout)
	}}
	return dynamodb.NewFromConfig(cfg, append(base, optFns...)...)
}

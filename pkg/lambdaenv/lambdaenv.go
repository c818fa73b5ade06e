// Package lambdaenv is what every Lambda function under functions/ shares:
// its configuration from environment variables, its JSON logger (with the
// invocation's request id), the AWS SDK configuration, and the HTTP API served
// through the API Gateway adapter. It imports no AWS service client: each
// function's main builds the clients it needs (dynamostore.NewClient,
// secrets.NewClient), so a function links, initialises and may call only
// those; the functions behind the authorizer never hold a Secrets Manager
// client, and the authorizer holds no DynamoDB client.
//
// The variables (see docs/lambda.md for which function reads which):
//
//	TRIGGERS_TABLE             DynamoDB table name
//	TRIGGERS_SECRET_ID         Secrets Manager secret name or ARN
//	TRIGGERS_PENDING_SHARDS    pending index shards (default 8)
//	TRIGGERS_RETENTION         event retention, a Go duration (default 2160h)
//	TRIGGERS_SECRET_TTL        credentials cache TTL, a Go duration (default 5m)
//	TRIGGERS_MAX_BODY_BYTES    largest POST /events body (default 262144)
//	TRIGGERS_LOG_LEVEL         debug, info, warn or error (default info)
//	TRIGGERS_METRICS_NAMESPACE CloudWatch namespace (default Triggers)
//	TRIGGERS_RETRY_QUEUE_URL   SQS queue of webhook retries
//	TRIGGERS_ALLOW_PRIVATE_WEBHOOKS  1: webhooks may target private addresses (tests only)
//
// The AWS SDK reads its own standard variables (AWS_REGION, credentials,
// AWS_ENDPOINT_URL, which tests point at moto_server).
package lambdaenv

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/httpapi"
)

// Config is every setting a function may read from its environment.
type Config struct {
	Table            string
	SecretID         string
	PendingShards    int
	Retention        time.Duration
	SecretTTL        time.Duration
	MaxBodyBytes     int64
	LogLevel         slog.Level
	MetricsNamespace string
	RetryQueueURL    string
	// AllowPrivateWebhooks is TRIGGERS_ALLOW_PRIVATE_WEBHOOKS=1: the SSRF
	// guard's opt-in (docs/webhooks.md). The CDK stack never sets it; the
	// emulator tests do, to deliver to a receiver on loopback.
	AllowPrivateWebhooks bool
}

// Need names a variable a function cannot run without.
type Need int

// The required variables.
const (
	NeedTable         Need = iota // TRIGGERS_TABLE
	NeedSecret                    // TRIGGERS_SECRET_ID
	NeedRetryQueueURL             // TRIGGERS_RETRY_QUEUE_URL
)

var needVars = map[Need]string{
	NeedTable:         "TRIGGERS_TABLE",
	NeedSecret:        "TRIGGERS_SECRET_ID",
	NeedRetryQueueURL: "TRIGGERS_RETRY_QUEUE_URL",
}

// Load reads the configuration through getenv (os.Getenv in a function,
// a map in tests). It reports every missing or malformed variable at once.
func Load(getenv func(string) string, needs ...Need) (Config, error) {
	c := Config{
		Table:            strings.TrimSpace(getenv("TRIGGERS_TABLE")),
		SecretID:         strings.TrimSpace(getenv("TRIGGERS_SECRET_ID")),
		RetryQueueURL:    strings.TrimSpace(getenv("TRIGGERS_RETRY_QUEUE_URL")),
		MetricsNamespace: strings.TrimSpace(getenv("TRIGGERS_METRICS_NAMESPACE")),
	}
	if c.MetricsNamespace == "" {
		c.MetricsNamespace = "Triggers"
	}
	var errs []error
	for _, n := range needs {
		name := needVars[n]
		if strings.TrimSpace(getenv(name)) == "" {
			errs = append(errs, fmt.Errorf("%s is required", name))
		}
	}
	parse := func(name string, dflt string, into func(string) error) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			v = dflt
		}
		if err := into(v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
		}
	}
	parse("TRIGGERS_PENDING_SHARDS", "8", func(v string) (err error) {
		c.PendingShards, err = strconv.Atoi(v)
		if err == nil && c.PendingShards < 1 {
			err = errors.New("want a positive number") // the store checks the upper bound
		}
		return err
	})
	parse("TRIGGERS_RETENTION", event.DefaultRetention.String(), func(v string) (err error) {
		c.Retention, err = time.ParseDuration(v)
		if err == nil && c.Retention < time.Minute {
			err = errors.New("want at least 1m")
		}
		return err
	})
	parse("TRIGGERS_SECRET_TTL", "5m", func(v string) (err error) {
		c.SecretTTL, err = time.ParseDuration(v)
		if err == nil && c.SecretTTL <= 0 {
			err = errors.New("want a positive duration")
		}
		return err
	})
	parse("TRIGGERS_MAX_BODY_BYTES", strconv.Itoa(httpapi.DefaultMaxBodyBytes), func(v string) (err error) {
		c.MaxBodyBytes, err = strconv.ParseInt(v, 10, 64)
		if err == nil && (c.MaxBodyBytes < 1024 || c.MaxBodyBytes > maxLambdaBody) {
			err = fmt.Errorf("want 1024 to %d", maxLambdaBody)
		}
		return err
	})
	parse("TRIGGERS_ALLOW_PRIVATE_WEBHOOKS", "0", func(v string) (err error) {
		c.AllowPrivateWebhooks, err = strconv.ParseBool(v)
		return err
	})
	parse("TRIGGERS_LOG_LEVEL", "info", func(v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	})
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// maxLambdaBody keeps a body under Lambda's 6 MB synchronous payload limit
// once API Gateway has base64-encoded it (4/3 growth) inside the event.
const maxLambdaBody = 4 << 20

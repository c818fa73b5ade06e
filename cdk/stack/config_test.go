package stack_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/triggershq/triggers/cdk/stack"
)

// fakeContext is CDK context as the app sees it: strings from
// `-c key=value`, JSON numbers and booleans from cdk.json.
type fakeContext map[string]any

func (f fakeContext) TryGetContext(key *string) interface{} { return f[*key] }

func TestDefaultsAreValid(t *testing.T) {
	t.Parallel()
	c := stack.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if !c.RetainData || len(c.CORSOrigins) != 0 || c.AuthorizerCacheTTL > stack.MaxAuthorizerCacheTTL {
		t.Errorf("defaults must be safe: retain %v, CORS %v, cache %v", c.RetainData, c.CORSOrigins, c.AuthorizerCacheTTL)
	}
}

func TestFromContext(t *testing.T) {
	t.Setenv(stack.EnvDist, "/from/env")
	tests := []struct {
		name string
		ctx  fakeContext
		want func(*stack.Config)
	}{
		{"nothing set: defaults and TRIGGERS_DIST", fakeContext{}, func(c *stack.Config) { c.Dist = "/from/env" }},
		{"strings from -c", fakeContext{
			"stackName": "triggers-prod", "dist": "/zips", "retainData": "false", "logRetentionDays": "90",
			"throttleRate": "200", "throttleBurst": "400", "tokenThrottleRate": "2.5", "tokenThrottleBurst": "5",
			"corsOrigins": "https://a.example.com, https://b.example.com", "authorizerCacheSeconds": "0",
			"pendingShards": "16", "retention": "720h", "secretTTL": "1m", "maxBodyBytes": "131072", "logLevel": "debug",
			"streamBatchSize": "50", "streamBatchWindowSeconds": "0", "deliverMaxConcurrency": "5", "alarmEmail": "ops@example.com",
		}, func(c *stack.Config) {
			c.StackName, c.Dist, c.RetainData, c.LogRetentionDays = "triggers-prod", "/zips", false, 90
			c.ThrottleRate, c.ThrottleBurst, c.TokenThrottleRate, c.TokenThrottleBurst = 200, 400, 2.5, 5
			c.CORSOrigins = []string{"https://a.example.com", "https://b.example.com"}
			c.AuthorizerCacheTTL = 0
			c.PendingShards, c.Retention, c.SecretTTL, c.MaxBodyBytes, c.LogLevel = 16, 720*time.Hour, time.Minute, 131072, "debug"
			c.StreamBatchSize, c.StreamBatchWindow, c.DeliverMaxConcurrency, c.AlarmEmail = 50, 0, 5, "ops@example.com"
		}},
		{"typed values from cdk.json", fakeContext{
			"retainData": false, "logRetentionDays": float64(7), "throttleRate": float64(50), "authorizerCacheSeconds": float64(300),
		}, func(c *stack.Config) {
			c.Dist = "/from/env"
			c.RetainData, c.LogRetentionDays, c.ThrottleRate, c.AuthorizerCacheTTL = false, 7, 50, 5*time.Minute
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := stack.Defaults()
			tt.want(&want)
			got, err := stack.FromContext(tt.ctx)
			if err != nil {
				t.Fatalf("FromContext: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestFromContextRejects(t *testing.T) {
	tests := []struct {
		name string
		ctx  fakeContext
		want string
	}{
		{"uppercase stack name", fakeContext{"stackName": "Prod"}, "stackName"},
		{"stack name too long", fakeContext{"stackName": strings.Repeat("a", 33)}, "stackName"},
		{"stack name trailing dash", fakeContext{"stackName": "prod-"}, "stackName"},
		{"cache over 5 minutes", fakeContext{"authorizerCacheSeconds": "301"}, "authorizerCacheSeconds"},
		{"negative cache", fakeContext{"authorizerCacheSeconds": "-1"}, "authorizerCacheSeconds"},
		{"retention not allowed by CloudWatch", fakeContext{"logRetentionDays": "31"}, "logRetentionDays"},
		{"token limit looser than stage", fakeContext{"tokenThrottleRate": "1000"}, "stricter"},
		{"zero stage rate", fakeContext{"throttleRate": "0"}, "throttling"},
		{"not a number", fakeContext{"throttleBurst": "lots"}, "throttleBurst"},
		{"fractional burst", fakeContext{"throttleBurst": "10.5"}, "whole number"},
		{"not a bool", fakeContext{"retainData": "perhaps"}, "retainData"},
		{"bad duration", fakeContext{"retention": "90 days"}, "retention"},
		{"number where a string is due", fakeContext{"stackName": float64(1)}, "stackName"},
		{"bad origin", fakeContext{"corsOrigins": "app.example.com"}, "corsOrigins"},
		{"bad log level", fakeContext{"logLevel": "loud"}, "logLevel"},
		{"too many shards", fakeContext{"pendingShards": "65"}, "pendingShards"},
		{"deliver concurrency below SQS minimum", fakeContext{"deliverMaxConcurrency": "1"}, "deliverMaxConcurrency"},
		{"batch window too long", fakeContext{"streamBatchWindowSeconds": "301"}, "streamBatchWindowSeconds"},
		{"body limit above Lambda's", fakeContext{"maxBodyBytes": "7000000"}, "maxBodyBytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := stack.FromContext(tt.ctx)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestNewRejectsMissingZips(t *testing.T) {
	cfg := testConfig()
	cfg.Dist = t.TempDir()
	jsiiMu.Lock()
	defer jsiiMu.Unlock()
	_, err := stack.New(nil, stack.Props{Config: cfg})
	if err == nil || !strings.Contains(err.Error(), "make build") || !strings.Contains(err.Error(), "authorizer.zip") {
		t.Errorf("got %v, want an error naming the missing zips and `make build`", err)
	}
}

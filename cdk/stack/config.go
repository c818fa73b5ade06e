package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

// Config is everything a deployment may vary. Zero values are not valid:
// start from Defaults and override, or read it with FromContext. Every field
// is documented with its context key in docs/deploy.md.
type Config struct {
	// StackName is the CloudFormation stack name and the suffix of every
	// physical name (zapier-triggers-events-<StackName>, ...), so several
	// stages can live in one account.
	StackName string
	// Dist is the directory holding <function>.zip for every function.
	Dist string
	// RetainData keeps the table (deletion protection on, DeletionPolicy
	// Retain), the secret and the log groups when the stack is deleted.
	// Safe by default; dev stacks turn it off to clean up completely.
	RetainData bool
	// LogRetentionDays is how long function and access logs are kept; one of
	// the values CloudWatch Logs accepts (see retentionDays).
	LogRetentionDays int

	// ThrottleRate and ThrottleBurst are the stage-wide default route limits
	// (requests per second, bucket size).
	ThrottleRate  float64
	ThrottleBurst int
	// TokenThrottleRate and TokenThrottleBurst limit POST /token, which
	// verifies argon2id hashes (expensive by design) and is the brute-force
	// target; the per-key limit in DynamoDB is the precise one, this is the
	// coarse shield in front of it.
	TokenThrottleRate  float64
	TokenThrottleBurst int
	// CORSOrigins are the browser origins allowed to call the API. Empty
	// (the default) configures no CORS at all: server-to-server clients such
	// as Zapier do not need it.
	CORSOrigins []string
	// AuthorizerCacheTTL is how long API Gateway reuses an authorizer answer
	// for the same Authorization header (0 disables caching, at most 5 min).
	AuthorizerCacheTTL time.Duration

	// PendingShards, Retention, SecretTTL, MaxBodyBytes and LogLevel are
	// passed to the functions as TRIGGERS_* variables.
	PendingShards int
	Retention     time.Duration
	SecretTTL     time.Duration
	MaxBodyBytes  int
	LogLevel      string

	// StreamBatchSize and StreamBatchWindow tune the DynamoDB Streams event
	// source mapping: bigger batches cost fewer invocations, the window adds
	// up to that much delivery latency.
	StreamBatchSize   int
	StreamBatchWindow time.Duration
	// DeliverMaxConcurrency caps concurrent deliver invocations, so a burst
	// of retries cannot take the account's whole Lambda concurrency or hammer
	// the subscribers' endpoints.
	DeliverMaxConcurrency int

	// AlarmEmail, when set, subscribes that address to the alarm topic.
	AlarmEmail string
}

// Context keys read by FromContext (`cdk synth -c key=value` or cdk.json).
const (
	CtxStackName             = "stackName"
	CtxDist                  = "dist"
	CtxRetainData            = "retainData"
	CtxLogRetentionDays      = "logRetentionDays"
	CtxThrottleRate          = "throttleRate"
	CtxThrottleBurst         = "throttleBurst"
	CtxTokenThrottleRate     = "tokenThrottleRate"
	CtxTokenThrottleBurst    = "tokenThrottleBurst"
	CtxCORSOrigins           = "corsOrigins"
	CtxAuthorizerCacheSecs   = "authorizerCacheSeconds"
	CtxPendingShards         = "pendingShards"
	CtxRetention             = "retention"
	CtxSecretTTL             = "secretTTL"
	CtxMaxBodyBytes          = "maxBodyBytes"
	CtxLogLevel              = "logLevel"
	CtxStreamBatchSize       = "streamBatchSize"
	CtxStreamBatchWindowSecs = "streamBatchWindowSeconds"
	CtxDeliverMaxConcurrency = "deliverMaxConcurrency"
	CtxAlarmEmail            = "alarmEmail"
)

// EnvDist is the environment variable that overrides the default function
// zip directory (the context key wins over it).
const EnvDist = "TRIGGERS_DIST"

// MaxAuthorizerCacheTTL is API Gateway's ceiling for authorizer caching and
// the issue's: no answer is reused for longer than this.
const MaxAuthorizerCacheTTL = 5 * time.Minute

// Defaults returns the configuration used when nothing is overridden: safe
// for production (data retained, CORS closed), sized for a modest load.
func Defaults() Config {
	return Config{
		StackName:             "triggers-dev",
		Dist:                  filepath.Join("..", "dist", "functions"),
		RetainData:            true,
		LogRetentionDays:      30,
		ThrottleRate:          500,
		ThrottleBurst:         1000,
		TokenThrottleRate:     5,
		TokenThrottleBurst:    10,
		AuthorizerCacheTTL:    time.Minute,
		PendingShards:         8,
		Retention:             2160 * time.Hour,
		SecretTTL:             5 * time.Minute,
		MaxBodyBytes:          262144,
		LogLevel:              "info",
		StreamBatchSize:       100,
		StreamBatchWindow:     time.Second,
		DeliverMaxConcurrency: 10,
	}
}

// ContextReader is the one method of a construct node FromContext needs
// (constructs.Node satisfies it), so the parsing is testable without jsii.
type ContextReader interface {
	TryGetContext(key *string) interface{}
}

// FromContext reads the configuration from CDK context, falling back to
// TRIGGERS_DIST for the zip directory and to Defaults for everything else,
// and validates it.
func FromContext(node ContextReader) (Config, error) {
	c := Defaults()
	if d := os.Getenv(EnvDist); d != "" {
		c.Dist = d
	}
	r := ctxReader{node: node}
	r.str(CtxStackName, &c.StackName)
	r.str(CtxDist, &c.Dist)
	r.boolean(CtxRetainData, &c.RetainData)
	r.integer(CtxLogRetentionDays, &c.LogRetentionDays)
	r.float(CtxThrottleRate, &c.ThrottleRate)
	r.integer(CtxThrottleBurst, &c.ThrottleBurst)
	r.float(CtxTokenThrottleRate, &c.TokenThrottleRate)
	r.integer(CtxTokenThrottleBurst, &c.TokenThrottleBurst)
	var origins string
	if r.str(CtxCORSOrigins, &origins) {
		c.CORSOrigins = splitList(origins)
	}
	r.seconds(CtxAuthorizerCacheSecs, &c.AuthorizerCacheTTL)
	r.integer(CtxPendingShards, &c.PendingShards)
	r.duration(CtxRetention, &c.Retention)
	r.duration(CtxSecretTTL, &c.SecretTTL)
	r.integer(CtxMaxBodyBytes, &c.MaxBodyBytes)
	r.str(CtxLogLevel, &c.LogLevel)
	r.integer(CtxStreamBatchSize, &c.StreamBatchSize)
	r.seconds(CtxStreamBatchWindowSecs, &c.StreamBatchWindow)
	r.integer(CtxDeliverMaxConcurrency, &c.DeliverMaxConcurrency)
	r.str(CtxAlarmEmail, &c.AlarmEmail)
	if r.err != nil {
		return Config{}, r.err
	}
	return c, c.Validate()
}

var stackNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// Validate reports the first setting AWS would reject at deploy time (or
// that would make the stack unsafe), so mistakes fail at synth instead.
func (c Config) Validate() error {
	switch {
	case !stackNameRE.MatchString(c.StackName) || strings.HasSuffix(c.StackName, "-"):
		// 32 characters keeps "<name>-subscriptions" well within
		// Lambda's 64-character function-name limit.
		return fmt.Errorf("config: %s %q: want 1-32 lowercase letters, digits and '-', starting with a letter", CtxStackName, c.StackName)
	case c.Dist == "":
		return fmt.Errorf("config: %s is empty", CtxDist)
	case retentionDays[c.LogRetentionDays] == "":
		return fmt.Errorf("config: %s %d is not a CloudWatch Logs retention period (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)", CtxLogRetentionDays, c.LogRetentionDays)
	case c.ThrottleRate <= 0 || c.ThrottleBurst <= 0:
		return fmt.Errorf("config: stage throttling must be positive (rate %v, burst %d)", c.ThrottleRate, c.ThrottleBurst)
	case c.TokenThrottleRate <= 0 || c.TokenThrottleBurst <= 0:
		return fmt.Errorf("config: token throttling must be positive (rate %v, burst %d)", c.TokenThrottleRate, c.TokenThrottleBurst)
	case c.TokenThrottleRate > c.ThrottleRate || c.TokenThrottleBurst > c.ThrottleBurst:
		return fmt.Errorf("config: POST /token limits (%v/%d) must be stricter than the stage's (%v/%d)", c.TokenThrottleRate, c.TokenThrottleBurst, c.ThrottleRate, c.ThrottleBurst)
	case c.AuthorizerCacheTTL < 0 || c.AuthorizerCacheTTL > MaxAuthorizerCacheTTL || c.AuthorizerCacheTTL%time.Second != 0:
		return fmt.Errorf("config: %s %v: want whole seconds in [0, 300]", CtxAuthorizerCacheSecs, c.AuthorizerCacheTTL)
	case c.PendingShards < 1 || c.PendingShards > 64:
		return fmt.Errorf("config: %s %d: want 1-64", CtxPendingShards, c.PendingShards)
	case c.Retention < time.Hour:
		return fmt.Errorf("config: %s %v: want at least 1h", CtxRetention, c.Retention)
	case c.SecretTTL <= 0 || c.SecretTTL > time.Hour:
		return fmt.Errorf("config: %s %v: want (0, 1h]", CtxSecretTTL, c.SecretTTL)
	case c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 6*1024*1024:
		// 6 MB is Lambda's synchronous payload limit; DynamoDB's 400 KB item
		// limit is enforced by the store with a 413.
		return fmt.Errorf("config: %s %d: want 1024-6291456", CtxMaxBodyBytes, c.MaxBodyBytes)
	case !validLogLevel(c.LogLevel):
		return fmt.Errorf("config: %s %q: want debug, info, warn or error", CtxLogLevel, c.LogLevel)
	case c.StreamBatchSize < 1 || c.StreamBatchSize > 1000:
		return fmt.Errorf("config: %s %d: want 1-1000", CtxStreamBatchSize, c.StreamBatchSize)
	case c.StreamBatchWindow < 0 || c.StreamBatchWindow > 300*time.Second || c.StreamBatchWindow%time.Second != 0:
		return fmt.Errorf("config: %s %v: want whole seconds in [0, 300]", CtxStreamBatchWindowSecs, c.StreamBatchWindow)
	case c.DeliverMaxConcurrency < 2 || c.DeliverMaxConcurrency > 1000:
		// SQS event sources accept a maximum concurrency of 2-1000.
		return fmt.Errorf("config: %s %d: want 2-1000", CtxDeliverMaxConcurrency, c.DeliverMaxConcurrency)
	}
	for _, o := range c.CORSOrigins {
		if o != "*" && !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://") {
			return fmt.Errorf("config: %s: origin %q must be a URL origin (https://app.example.com) or *", CtxCORSOrigins, o)
		}
	}
	return nil
}

func validLogLevel(s string) bool {
	switch strings.ToLower(s) {
	case "debug", "info", "warn", "error":
		return true
	}
	return false
}

// retentionDays maps the retention periods CloudWatch Logs accepts to the
// CDK enum.
var retentionDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS,
	5: awslogs.RetentionDays_FIVE_DAYS, 7: awslogs.RetentionDays_ONE_WEEK,
	14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS,
	120: awslogs.RetentionDays_FOUR_MONTHS, 150: awslogs.RetentionDays_FIVE_MONTHS,
	180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS,
	731: awslogs.RetentionDays_TWO_YEARS, 1096: awslogs.RetentionDays_THREE_YEARS,
	1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS,
	3288: awslogs.RetentionDays_NINE_YEARS, 3653: awslogs.RetentionDays_TEN_YEARS,
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ctxReader reads typed values from CDK context. Values arrive as strings
// from `-c key=value` and as JSON numbers/booleans from cdk.json, so each
// reader accepts both. The first malformed value is kept in err.
type ctxReader struct {
	node ContextReader
	err  error
}

func (r *ctxReader) raw(key string) (any, bool) {
	if r.err != nil || r.node == nil {
		return nil, false
	}
	v := r.node.TryGetContext(&key)
	return v, v != nil
}

func (r *ctxReader) fail(key string, v any, want string) {
	r.err = fmt.Errorf("config: context %s=%v: want %s", key, v, want)
}

func (r *ctxReader) str(key string, dst *string) bool {
	v, ok := r.raw(key)
	if !ok {
		return false
	}
	s, isStr := v.(string)
	if !isStr {
		r.fail(key, v, "a string")
		return false
	}
	*dst = strings.TrimSpace(s)
	return true
}

func (r *ctxReader) float(key string, dst *float64) {
	v, ok := r.raw(key)
	if !ok {
		return
	}
	switch x := v.(type) {
	case float64:
		*dst = x
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			r.fail(key, v, "a number")
			return
		}
		*dst = f
	default:
		r.fail(key, v, "a number")
	}
}

func (r *ctxReader) integer(key string, dst *int) {
	f := float64(*dst)
	r.float(key, &f)
	if r.err != nil {
		return
	}
	if f != float64(int(f)) {
		r.fail(key, f, "a whole number")
		return
	}
	*dst = int(f)
}

func (r *ctxReader) boolean(key string, dst *bool) {
	v, ok := r.raw(key)
	if !ok {
		return
	}
	switch x := v.(type) {
	case bool:
		*dst = x
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			r.fail(key, v, "true or false")
			return
		}
		*dst = b
	default:
		r.fail(key, v, "true or false")
	}
}

func (r *ctxReader) seconds(key string, dst *time.Duration) {
	n := int(*dst / time.Second)
	r.integer(key, &n)
	if r.err == nil {
		*dst = time.Duration(n) * time.Second
	}
}

func (r *ctxReader) duration(key string, dst *time.Duration) {
	var s string
	if !r.str(key, &s) {
		return
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		r.fail(key, s, "a Go duration such as 2160h")
		return
	}
	*dst = d
}

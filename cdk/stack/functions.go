package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/triggershq/triggers/pkg/routes"
)

// Names of the functions that serve no HTTP route (the HTTP ones are the
// routes.Func* constants).
const (
	FuncAuthorizer = "authorizer"
	FuncStream     = "stream"
	FuncDeliver    = "deliver"
)

// FunctionSpec is what the stack needs to know about one function beyond
// its code: its size and which resources it is wired to. Sizes are chosen in
// docs/deploy.md ("Functions").
type FunctionSpec struct {
	Name    string
	Memory  int // MB; CPU share grows with it
	Timeout time.Duration
	// HTTP functions serve routes of the route table.
	HTTP bool
	// Table, Secret and RetryQueue say which TRIGGERS_* variables it gets
	// (and bound the permissions in permissions.go).
	Table, Secret, RetryQueue bool
	Description               string
}

// Functions is every Lambda function of the stack. HTTP API functions must
// answer well inside API Gateway's 30 s integration limit; the authorizer
// inside its 10 s limit. Functions that call DynamoDB get 15 s: the store's
// bounded retry budget can take ~10 s in the worst case, and the function
// must outlive it to answer 503 with Retry-After rather than be killed
// (which API Gateway turns into an anonymous 500).
var Functions = []FunctionSpec{
	{Name: routes.FuncToken, Memory: 512, Timeout: 15 * time.Second, HTTP: true, Table: true, Secret: true,
		// argon2id (m=19 MiB, t=2) is CPU-bound: 512 MB buys ~0.3 vCPU, about
		// a 100-150 ms verify; tokens are requested rarely (once per day).
		Description: "POST /token: exchange an API key for a bearer token"},
	{Name: routes.FuncIngest, Memory: 256, Timeout: 15 * time.Second, HTTP: true, Table: true,
		Description: "POST /events: store an event"},
	{Name: routes.FuncInbox, Memory: 256, Timeout: 15 * time.Second, HTTP: true, Table: true,
		Description: "GET /inbox, GET /events/{id}: read pending events"},
	{Name: routes.FuncAck, Memory: 256, Timeout: 15 * time.Second, HTTP: true, Table: true,
		Description: "POST /inbox/{id}/ack: acknowledge an event"},
	{Name: routes.FuncSubscriptions, Memory: 256, Timeout: 15 * time.Second, HTTP: true, Table: true,
		Description: "/subscriptions: webhook subscriptions (REST hooks)"},
	{Name: routes.FuncMeta, Memory: 128, Timeout: 15 * time.Second, HTTP: true, Table: true,
		Description: "/health, /openapi.json, /docs"},
	{Name: FuncAuthorizer, Memory: 256, Timeout: 5 * time.Second, Secret: true,
		// On every uncached request's path: 256 MB keeps the cold start's
		// TLS handshake to Secrets Manager short; the JWT check is µs.
		Description: "Lambda authorizer: verifies bearer JWTs"},
	{Name: FuncStream, Memory: 256, Timeout: 60 * time.Second, Table: true, RetryQueue: true,
		Description: "DynamoDB Streams consumer: metrics and webhook fan-out"},
	{Name: FuncDeliver, Memory: 256, Timeout: 30 * time.Second, Table: true, RetryQueue: true,
		// Up to 10 messages a batch, each one webhook POST with a 10 s
		// timeout, sent concurrently.
		Description: "Webhook retry queue consumer"},
}

// FunctionSpecByName returns the spec of the named function.
func FunctionSpecByName(name string) (FunctionSpec, bool) {
	for _, f := range Functions {
		if f.Name == name {
			return f, true
		}
	}
	return FunctionSpec{}, false
}

// FunctionName is the physical name of a function in the stack.
func FunctionName(stackName, fn string) string { return stackName + "-" + fn }

// zipPath is where the function's code is expected.
func zipPath(dist, fn string) string { return filepath.Join(dist, fn+".zip") }

// checkZips reports every missing function zip at once, with the command
// that builds them, instead of CDK's first "cannot find asset".
func checkZips(dist string) error {
	var missing []string
	for _, f := range Functions {
		p := zipPath(dist, f.Name)
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("function code not found: %s (run `make build`, or point -c %s=DIR / %s at the zips)",
			strings.Join(missing, ", "), CtxDist, EnvDist)
	}
	return nil
}

// fnParts is one function with its role and log group.
type fnParts struct {
	spec FunctionSpec
	fn   awslambda.Function
	role awsiam.Role
	logs awslogs.LogGroup
}

// addFunctions creates every function with its own role (no managed
// policies: permissions.go writes each statement by hand) and its own log
// group (so no function needs logs:CreateLogGroup).
func (b *builder) addFunctions() {
	b.fns = map[string]*fnParts{}
	for _, spec := range Functions {
		name := FunctionName(b.cfg.StackName, spec.Name)
		id := constructID(spec.Name)
		logs := awslogs.NewLogGroup(b.stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
			LogGroupName:  jsii.String("/aws/lambda/" + name),
			Retention:     retentionDays[b.cfg.LogRetentionDays],
			RemovalPolicy: b.removalPolicy(),
		})
		role := awsiam.NewRole(b.stack, jsii.String(id+"Role"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("Execution role of " + name),
		})
		fn := awslambda.NewFunction(b.stack, jsii.String(id+"Function"), &awslambda.FunctionProps{
			FunctionName: jsii.String(name),
			Description:  jsii.String(spec.Description),
			Code:         awslambda.Code_FromAsset(jsii.String(zipPath(b.cfg.Dist, spec.Name)), nil),
			Handler:      jsii.String("bootstrap"),
			Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
			Architecture: awslambda.Architecture_ARM_64(),
			MemorySize:   jsii.Number(float64(spec.Memory)),
			Timeout:      awscdk.Duration_Seconds(jsii.Number(spec.Timeout.Seconds())),
			Role:         role,
			LogGroup:     logs,
			Environment:  b.environment(spec),
		})
		// CDK makes every function DependsOn its role although the Role
		// GetAtt already orders them; cfn-lint warns (W3005) about the
		// redundancy. Ignored here, on these resources only, so a W3005
		// anywhere else still fails the lint test.
		fn.Node().DefaultChild().(awscdk.CfnResource).AddMetadata(jsii.String("cfn-lint"), map[string]any{
			"config": map[string]any{"ignore_checks": []string{"W3005"}},
		})
		b.fns[spec.Name] = &fnParts{spec: spec, fn: fn, role: role, logs: logs}
	}
}

// environment is the function's TRIGGERS_* configuration; a function only
// sees the names of the resources it may use.
func (b *builder) environment(spec FunctionSpec) *map[string]*string {
	env := map[string]string{
		"TRIGGERS_METRICS_NAMESPACE": MetricsNamespace(b.cfg.StackName),
		"TRIGGERS_LOG_LEVEL":         strings.ToLower(b.cfg.LogLevel),
	}
	if spec.Table {
		env["TRIGGERS_TABLE"] = *b.table.TableName()
		env["TRIGGERS_PENDING_SHARDS"] = strconv.Itoa(b.cfg.PendingShards)
		env["TRIGGERS_RETENTION"] = goDuration(b.cfg.Retention)
	}
	if spec.Secret {
		env["TRIGGERS_SECRET_ID"] = *b.secret.SecretArn()
		env["TRIGGERS_SECRET_TTL"] = goDuration(b.cfg.SecretTTL)
	}
	if spec.RetryQueue {
		env["TRIGGERS_RETRY_QUEUE_URL"] = *b.retryQueue.QueueUrl()
	}
	if spec.HTTP {
		env["TRIGGERS_MAX_BODY_BYTES"] = strconv.Itoa(b.cfg.MaxBodyBytes)
	}
	out := make(map[string]*string, len(env))
	for k, v := range env {
		out[k] = jsii.String(v)
	}
	return &out
}

// goDuration formats d the way people write it in Go ("2160h", "5m"),
// which time.ParseDuration reads back.
func goDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}

// constructID turns a function name into a CamelCase construct id
// ("subscriptions" -> "Subscriptions").
func constructID(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		if r == '-' || r == '_' {
			up = true
			continue
		}
		if up && r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		up = false
		b.WriteRune(r)
	}
	return b.String()
}

// httpFunctions returns the names of the functions that serve routes.
func httpFunctions() []string {
	var out []string
	for _, f := range Functions {
		if f.HTTP {
			out = append(out, f.Name)
		}
	}
	sort.Strings(out)
	return out
}

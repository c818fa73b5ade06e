package stack_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/triggershq/triggers/cdk/stack"
	"github.com/triggershq/triggers/pkg/routes"
)

func TestResourceCounts(t *testing.T) {
	s := defaultStack(t)
	fns := map[string]bool{}
	for _, r := range routes.Table {
		fns[r.Function] = true
	}
	want := map[string]int{
		"AWS::Lambda::Function":           len(stack.Functions),
		"AWS::IAM::Role":                  len(stack.Functions), // one per function, nothing else
		"AWS::Logs::LogGroup":             len(stack.Functions) + 1,
		"AWS::ApiGatewayV2::Api":          1,
		"AWS::ApiGatewayV2::Stage":        1,
		"AWS::ApiGatewayV2::Authorizer":   1,
		"AWS::ApiGatewayV2::Route":        len(routes.Table),
		"AWS::ApiGatewayV2::Integration":  len(fns),
		"AWS::DynamoDB::Table":            1,
		"AWS::SecretsManager::Secret":     1,
		"AWS::SQS::Queue":                 3,
		"AWS::Lambda::EventSourceMapping": 2,
		"AWS::CloudWatch::Dashboard":      1,
		"AWS::CloudWatch::Alarm":          6,
		"AWS::SNS::Topic":                 1,
		// Custom resources would mean a helper Lambda we did not write.
		"AWS::CloudFormation::CustomResource": 0,
		"Custom::LogRetention":                0,
	}
	for typ, n := range want {
		s.match(t, "count of "+typ, func(tmpl assertions.Template) {
			tmpl.ResourceCountIs(jsii.String(typ), jsii.Number(float64(n)))
		})
	}
}

func TestFunctions(t *testing.T) {
	s := defaultStack(t)
	for _, spec := range stack.Functions {
		t.Run(spec.Name, func(t *testing.T) {
			s.match(t, "runtime, architecture, handler, size", func(tmpl assertions.Template) {
				tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
					"FunctionName":  stack.FunctionName(s.cfg.StackName, spec.Name),
					"Runtime":       "provided.al2023",
					"Architectures": []any{"arm64"},
					"Handler":       "bootstrap",
					"MemorySize":    spec.Memory,
					"Timeout":       int(spec.Timeout.Seconds()),
				})
			})

			id, fn := s.functionByName(t, spec.Name)
			// Its own log group, with retention, named after it.
			lg := s.resources[refTo(fn.Properties["LoggingConfig"].(map[string]any)["LogGroup"])]
			if lg.Type != "AWS::Logs::LogGroup" {
				t.Fatalf("%s: LoggingConfig.LogGroup is not a log group of the stack", id)
			}
			if got, want := lg.Properties["LogGroupName"], "/aws/lambda/"+stack.FunctionName(s.cfg.StackName, spec.Name); got != want {
				t.Errorf("log group name: got %v, want %v", got, want)
			}
			if got := lg.Properties["RetentionInDays"]; got != float64(s.cfg.LogRetentionDays) {
				t.Errorf("log retention: got %v, want %d", got, s.cfg.LogRetentionDays)
			}
			if spec.Timeout > 30*time.Second && spec.HTTP {
				t.Errorf("HTTP function timeout %v exceeds API Gateway's 30 s", spec.Timeout)
			}

			env := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
			has := func(k string) bool { _, ok := env[k]; return ok }
			if got, want := env["TRIGGERS_METRICS_NAMESPACE"], "Triggers/"+s.cfg.StackName; got != want {
				t.Errorf("TRIGGERS_METRICS_NAMESPACE: got %v, want %v", got, want)
			}
			checks := []struct {
				key  string
				want bool
			}{
				{"TRIGGERS_TABLE", spec.Name != stack.FuncAuthorizer},
				{"TRIGGERS_PENDING_SHARDS", spec.Name != stack.FuncAuthorizer},
				{"TRIGGERS_RETENTION", spec.Name != stack.FuncAuthorizer},
				{"TRIGGERS_SECRET_ID", spec.Name == routes.FuncToken || spec.Name == stack.FuncAuthorizer},
				{"TRIGGERS_SECRET_TTL", spec.Name == routes.FuncToken || spec.Name == stack.FuncAuthorizer},
				{"TRIGGERS_RETRY_QUEUE_URL", spec.Name == stack.FuncStream || spec.Name == stack.FuncDeliver},
				{"TRIGGERS_MAX_BODY_BYTES", spec.HTTP},
				{"TRIGGERS_LOG_LEVEL", true},
			}
			for _, c := range checks {
				if has(c.key) != c.want {
					t.Errorf("%s set: got %v, want %v", c.key, has(c.key), c.want)
				}
			}
			if has("TRIGGERS_TABLE") && refTo(env["TRIGGERS_TABLE"]) != s.logicalIDWithPrefix(t, "AWS::DynamoDB::Table", "Events") {
				t.Errorf("TRIGGERS_TABLE: got %v, want a Ref to the table", env["TRIGGERS_TABLE"])
			}
			if has("TRIGGERS_SECRET_ID") && refTo(env["TRIGGERS_SECRET_ID"]) != s.logicalIDWithPrefix(t, "AWS::SecretsManager::Secret", "Credentials") {
				t.Errorf("TRIGGERS_SECRET_ID: got %v, want a Ref to the secret", env["TRIGGERS_SECRET_ID"])
			}
			if has("TRIGGERS_RETRY_QUEUE_URL") && refTo(env["TRIGGERS_RETRY_QUEUE_URL"]) != s.logicalIDWithPrefix(t, "AWS::SQS::Queue", "RetryQueue") {
				t.Errorf("TRIGGERS_RETRY_QUEUE_URL: got %v, want a Ref to the retry queue", env["TRIGGERS_RETRY_QUEUE_URL"])
			}
			if got := env["TRIGGERS_RETENTION"]; has("TRIGGERS_RETENTION") && got != "2160h" {
				t.Errorf("TRIGGERS_RETENTION: got %v, want 2160h", got)
			}
		})
	}
}

func TestAuthorizer(t *testing.T) {
	s := defaultStack(t)
	s.match(t, "authorizer settings", func(tmpl assertions.Template) {
		tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), &map[string]any{
			"AuthorizerType":                 "REQUEST",
			"AuthorizerPayloadFormatVersion": "2.0",
			"EnableSimpleResponses":          true,
			"IdentitySource":                 []any{"$request.header.Authorization"},
			"AuthorizerResultTtlInSeconds":   int(s.cfg.AuthorizerCacheTTL.Seconds()),
		})
	})
	id := s.ofType("AWS::ApiGatewayV2::Authorizer")[0]
	p := s.resources[id].Properties
	if ttl, _ := p["AuthorizerResultTtlInSeconds"].(float64); ttl > 300 {
		t.Errorf("authorizer cache TTL: got %v s, want <= 300", ttl)
	}
	// It invokes the authorizer function.
	authzID, _ := s.functionByName(t, stack.FuncAuthorizer)
	raw, _ := json.Marshal(p["AuthorizerUri"])
	if !strings.Contains(string(raw), `"`+authzID+`"`) {
		t.Errorf("AuthorizerUri %s does not invoke %s", raw, authzID)
	}
}

func TestAuthorizerCacheTTLIsConfigurable(t *testing.T) {
	cfg := testConfig()
	cfg.AuthorizerCacheTTL = 0
	s := synth(t, stack.Props{Config: cfg})
	s.match(t, "cache disabled", func(tmpl assertions.Template) {
		tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), &map[string]any{
			"AuthorizerResultTtlInSeconds": 0,
		})
	})
}

func TestStage(t *testing.T) {
	s := defaultStack(t)
	id := s.ofType("AWS::ApiGatewayV2::Stage")[0]
	st := s.resources[id]
	p := st.Properties
	if p["StageName"] != "$default" || p["AutoDeploy"] != true {
		t.Errorf("stage: got name %v autoDeploy %v, want $default, true", p["StageName"], p["AutoDeploy"])
	}
	def := p["DefaultRouteSettings"].(map[string]any)
	if def["ThrottlingRateLimit"] != s.cfg.ThrottleRate || def["ThrottlingBurstLimit"] != float64(s.cfg.ThrottleBurst) || def["DetailedMetricsEnabled"] != true {
		t.Errorf("default route settings: got %v, want rate %v burst %d and detailed metrics", def, s.cfg.ThrottleRate, s.cfg.ThrottleBurst)
	}
	token, ok := p["RouteSettings"].(map[string]any)["POST /token"].(map[string]any)
	if !ok {
		t.Fatalf("no route settings for POST /token: %v", p["RouteSettings"])
	}
	rate, burst := token["ThrottlingRateLimit"].(float64), token["ThrottlingBurstLimit"].(float64)
	if rate != s.cfg.TokenThrottleRate || burst != float64(s.cfg.TokenThrottleBurst) {
		t.Errorf("POST /token throttle: got %v/%v, want %v/%d", rate, burst, s.cfg.TokenThrottleRate, s.cfg.TokenThrottleBurst)
	}
	if rate >= def["ThrottlingRateLimit"].(float64) || burst >= def["ThrottlingBurstLimit"].(float64) {
		t.Errorf("POST /token throttle %v/%v is not stricter than the stage's %v", rate, burst, def)
	}
	// The stage must wait for the route its settings name.
	var tokenRoute string
	for _, rid := range s.ofType("AWS::ApiGatewayV2::Route") {
		if s.resources[rid].Properties["RouteKey"] == "POST /token" {
			tokenRoute = rid
		}
	}
	if deps := asStrings(st.DependsOn); !contains(deps, tokenRoute) {
		t.Errorf("stage DependsOn %v, want it to include the POST /token route %s", deps, tokenRoute)
	}

	// Access logs: JSON, with the fields an operator needs, and never a
	// request header (the Authorization header is a bearer token).
	als := p["AccessLogSettings"].(map[string]any)
	lg := s.resources[refTo(als["DestinationArn"])]
	if lg.Type != "AWS::Logs::LogGroup" || lg.Properties["RetentionInDays"] != float64(s.cfg.LogRetentionDays) {
		t.Errorf("access log destination: got %v, want a log group with retention", als["DestinationArn"])
	}
	format := als["Format"].(string)
	var fields map[string]string
	if err := json.Unmarshal([]byte(format), &fields); err != nil {
		t.Fatalf("access log format is not JSON: %v\n%s", err, format)
	}
	for _, k := range []string{"requestId", "ip", "routeKey", "status", "latency", "integrationLatency", "authorizerError", "responseLength"} {
		if fields[k] == "" {
			t.Errorf("access log field %q missing", k)
		}
	}
	if l := strings.ToLower(format); strings.Contains(l, "header") || strings.Contains(l, "authorization") {
		t.Errorf("access log format references request headers: %s", format)
	}
}

func TestCORS(t *testing.T) {
	s := defaultStack(t)
	if cors, ok := s.resources[s.ofType("AWS::ApiGatewayV2::Api")[0]].Properties["CorsConfiguration"]; ok {
		t.Errorf("default CORS: got %v, want none (closed)", cors)
	}

	cfg := testConfig()
	cfg.CORSOrigins = []string{"https://app.example.com"}
	open := synth(t, stack.Props{Config: cfg})
	open.match(t, "CORS for one origin", func(tmpl assertions.Template) {
		tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Api"), &map[string]any{
			"CorsConfiguration": assertions.Match_ObjectLike(&map[string]any{
				"AllowOrigins":     []any{"https://app.example.com"},
				"AllowCredentials": false,
				"AllowHeaders":     assertions.Match_ArrayWith(&[]any{"authorization", "idempotency-key"}),
				"ExposeHeaders":    assertions.Match_ArrayWith(&[]any{"link", "retry-after"}),
			}),
		})
	})
}

func TestTable(t *testing.T) {
	s := defaultStack(t)
	gsi := func(name string) map[string]any {
		return map[string]any{
			"IndexName": name,
			"KeySchema": []any{
				map[string]any{"AttributeName": name + "pk", "KeyType": "HASH"},
				map[string]any{"AttributeName": name + "sk", "KeyType": "RANGE"},
			},
			"Projection": map[string]any{"ProjectionType": "ALL"},
		}
	}
	attr := func(name string) map[string]any { return map[string]any{"AttributeName": name, "AttributeType": "S"} }
	s.match(t, "table settings", func(tmpl assertions.Template) {
		tmpl.HasResource(jsii.String("AWS::DynamoDB::Table"), &map[string]any{
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
			"Properties": map[string]any{
				"TableName":   "zapier-triggers-events-" + s.cfg.StackName,
				"BillingMode": "PAY_PER_REQUEST",
				"KeySchema": []any{
					map[string]any{"AttributeName": "pk", "KeyType": "HASH"},
					map[string]any{"AttributeName": "sk", "KeyType": "RANGE"},
				},
				"AttributeDefinitions": assertions.Match_ArrayWith(&[]any{
					attr("pk"), attr("sk"), attr("gsi1pk"), attr("gsi1sk"), attr("gsi2pk"), attr("gsi2sk"),
				}),
				"GlobalSecondaryIndexes":           []any{gsi("gsi1"), gsi("gsi2")},
				"TimeToLiveSpecification":          map[string]any{"AttributeName": "ttl", "Enabled": true},
				"StreamSpecification":              map[string]any{"StreamViewType": "NEW_AND_OLD_IMAGES"},
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"DeletionProtectionEnabled":        true,
			},
		})
	})
}

// A dev stack (retainData=false) can be destroyed completely; everything
// else about the table stays the same.
func TestDevStackIsDisposable(t *testing.T) {
	cfg := testConfig()
	cfg.RetainData = false
	s := synth(t, stack.Props{Config: cfg})
	s.match(t, "table deletable", func(tmpl assertions.Template) {
		tmpl.HasResource(jsii.String("AWS::DynamoDB::Table"), &map[string]any{
			"DeletionPolicy": "Delete",
			"Properties": assertions.Match_ObjectLike(&map[string]any{
				"DeletionProtectionEnabled":        false,
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			}),
		})
	})
	for _, typ := range []string{"AWS::SecretsManager::Secret", "AWS::Logs::LogGroup"} {
		for _, id := range s.ofType(typ) {
			if p := s.resources[id].DeletionPolicy; p != "Delete" {
				t.Errorf("%s %s: DeletionPolicy %q, want Delete", typ, id, p)
			}
		}
	}
	def := defaultStack(t)
	for _, typ := range []string{"AWS::SecretsManager::Secret", "AWS::Logs::LogGroup"} {
		for _, id := range def.ofType(typ) {
			if p := def.resources[id].DeletionPolicy; p != "Retain" {
				t.Errorf("default stack: %s %s: DeletionPolicy %q, want Retain", typ, id, p)
			}
		}
	}
}

func TestSecret(t *testing.T) {
	s := defaultStack(t)
	s.match(t, "generated credentials secret", func(tmpl assertions.Template) {
		tmpl.HasResourceProperties(jsii.String("AWS::SecretsManager::Secret"), &map[string]any{
			"Name": "zapier-api-credentials-" + s.cfg.StackName,
			"GenerateSecretString": map[string]any{
				"SecretStringTemplate": `{"active_kid":"initial","api_keys":[]}`,
				"GenerateStringKey":    "jwt_key_initial",
				"PasswordLength":       64,
				"ExcludePunctuation":   true,
			},
		})
	})
}

func TestEventSourceMappings(t *testing.T) {
	s := defaultStack(t)
	tableID := s.logicalIDWithPrefix(t, "AWS::DynamoDB::Table", "Events")
	streamFn, _ := s.functionByName(t, stack.FuncStream)
	deliverFn, _ := s.functionByName(t, stack.FuncDeliver)
	pattern, _ := json.Marshal(map[string]any{"dynamodb": map[string]any{"Keys": map[string]any{"pk": map[string]any{"S": []any{map[string]any{"prefix": "EVT#"}}}}}})

	s.match(t, "stream event source", func(tmpl assertions.Template) {
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), &map[string]any{
			"FunctionName":                   map[string]any{"Ref": streamFn},
			"EventSourceArn":                 map[string]any{"Fn::GetAtt": []any{tableID, "StreamArn"}},
			"StartingPosition":               "TRIM_HORIZON",
			"BatchSize":                      s.cfg.StreamBatchSize,
			"MaximumBatchingWindowInSeconds": int(s.cfg.StreamBatchWindow.Seconds()),
			"BisectBatchOnFunctionError":     true,
			"MaximumRetryAttempts":           stack.StreamRetryAttempts,
			"MaximumRecordAgeInSeconds":      int(stack.StreamMaxRecordAge.Seconds()),
			"FunctionResponseTypes":          []any{"ReportBatchItemFailures"},
			"DestinationConfig": map[string]any{"OnFailure": map[string]any{
				"Destination": map[string]any{"Fn::GetAtt": []any{s.logicalIDWithPrefix(t, "AWS::SQS::Queue", "StreamDLQ"), "Arn"}},
			}},
			"FilterCriteria": map[string]any{"Filters": []any{map[string]any{"Pattern": string(pattern)}}},
		})
	})
	s.match(t, "retry queue event source", func(tmpl assertions.Template) {
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), &map[string]any{
			"FunctionName":          map[string]any{"Ref": deliverFn},
			"EventSourceArn":        map[string]any{"Fn::GetAtt": []any{s.logicalIDWithPrefix(t, "AWS::SQS::Queue", "RetryQueue"), "Arn"}},
			"BatchSize":             stack.DeliverBatchSize,
			"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
			"ScalingConfig":         map[string]any{"MaximumConcurrency": s.cfg.DeliverMaxConcurrency},
		})
	})
	// Record age must stay inside the stream's 24 h retention, and retries
	// must be bounded (-1 means forever).
	if a := stack.StreamMaxRecordAge; a <= 0 || a >= 24*time.Hour {
		t.Errorf("StreamMaxRecordAge %v: want within (0, 24h)", a)
	}
	if n := stack.StreamRetryAttempts; n < 0 || n > 10000 {
		t.Errorf("StreamRetryAttempts %d: want bounded", n)
	}
}

func TestQueues(t *testing.T) {
	s := defaultStack(t)
	deliver, _ := stack.FunctionSpecByName(stack.FuncDeliver)
	retry := s.resources[s.logicalIDWithPrefix(t, "AWS::SQS::Queue", "RetryQueue")].Properties
	if vt := retry["VisibilityTimeout"].(float64); vt < 6*deliver.Timeout.Seconds() {
		t.Errorf("retry queue visibility timeout %v s, want >= 6 x deliver timeout (%v)", vt, 6*deliver.Timeout.Seconds())
	}
	redrive := retry["RedrivePolicy"].(map[string]any)
	if refTo(redrive["deadLetterTargetArn"]) != s.logicalIDWithPrefix(t, "AWS::SQS::Queue", "RetryDLQ") || redrive["maxReceiveCount"] != float64(stack.RetryMaxReceiveCount) {
		t.Errorf("retry queue redrive: got %v, want the retry DLQ after %d receives", redrive, stack.RetryMaxReceiveCount)
	}
	for _, id := range s.ofType("AWS::SQS::Queue") {
		p := s.resources[id].Properties
		if p["SqsManagedSseEnabled"] != true {
			t.Errorf("queue %s: SqsManagedSseEnabled %v, want true", id, p["SqsManagedSseEnabled"])
		}
		if strings.Contains(id, "DLQ") && p["MessageRetentionPeriod"] != float64(14*24*3600) {
			t.Errorf("DLQ %s: retention %v, want 14 days", id, p["MessageRetentionPeriod"])
		}
	}
	dlqRetention := float64(14 * 24 * 3600)
	if r := retry["MessageRetentionPeriod"].(float64); r >= dlqRetention {
		t.Errorf("retry queue retention %v s must be shorter than its DLQ's %v s", r, dlqRetention)
	}
	// Every queue refuses plain-HTTP access (enforceSSL).
	if got := len(s.ofType("AWS::SQS::QueuePolicy")); got != 3 {
		t.Errorf("queue policies: got %d, want 3 (TLS only)", got)
	}
}

func TestAlarms(t *testing.T) {
	s := defaultStack(t)
	topic := s.ofType("AWS::SNS::Topic")[0]
	byName := map[string]map[string]any{}
	for _, id := range s.ofType("AWS::CloudWatch::Alarm") {
		p := s.resources[id].Properties
		byName[p["AlarmName"].(string)] = p
		if refTo(asAny(p["AlarmActions"])) != topic || refTo(asAny(p["OKActions"])) != topic {
			t.Errorf("alarm %s: actions %v / %v, want the alarm topic", p["AlarmName"], p["AlarmActions"], p["OKActions"])
		}
		if p["TreatMissingData"] != "notBreaching" {
			t.Errorf("alarm %s: TreatMissingData %v, want notBreaching", p["AlarmName"], p["TreatMissingData"])
		}
	}
	for _, name := range []string{"api-5xx-rate", "stream-dlq-not-empty", "retry-dlq-not-empty", "stream-iterator-age", "lambda-throttles", "dynamodb-throttles"} {
		if _, ok := byName[s.cfg.StackName+"-"+name]; !ok {
			t.Errorf("alarm %s-%s missing (have %v)", s.cfg.StackName, name, keys(byName))
		}
	}
	// DLQ alarms fire on the first message.
	for name, dlq := range map[string]string{"stream-dlq-not-empty": "StreamDLQ", "retry-dlq-not-empty": "RetryDLQ"} {
		p := byName[s.cfg.StackName+"-"+name]
		// The metric is inline (Dimensions) or, when labelled, in Metrics.
		raw, _ := json.Marshal([]any{p["Dimensions"], p["Metrics"]})
		metric := string(raw)
		if p["Threshold"] != float64(1) || p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" ||
			!strings.Contains(metric, `"`+s.logicalIDWithPrefix(t, "AWS::SQS::Queue", dlq)+`"`) || !strings.Contains(metric, "ApproximateNumberOfMessagesVisible") {
			t.Errorf("alarm %s: got %v, want depth >= 1 of %s", name, p, dlq)
		}
	}
}

func TestAlarmEmailSubscription(t *testing.T) {
	cfg := testConfig()
	cfg.AlarmEmail = "oncall@example.com"
	s := synth(t, stack.Props{Config: cfg})
	s.match(t, "email subscription", func(tmpl assertions.Template) {
		tmpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), &map[string]any{
			"Protocol": "email", "Endpoint": "oncall@example.com",
		})
	})
}

// Every metric our functions emit is on the dashboard, in the right
// namespace, and the per-route panels use API Gateway's Route dimension.
func TestDashboard(t *testing.T) {
	s := defaultStack(t)
	body := dashboardBody(t, s)
	if !strings.Contains(body, `"Triggers/`+s.cfg.StackName+`"`) {
		t.Errorf("dashboard does not use namespace Triggers/%s", s.cfg.StackName)
	}
	for _, m := range stack.MetricNames {
		if !strings.Contains(body, `"`+m+`"`) {
			t.Errorf("metric %s is not on the dashboard", m)
		}
	}
	for _, r := range routes.Table {
		if !strings.Contains(body, `"Route","`+r.Pattern()+`"`) {
			t.Errorf("no per-route panel for %s", r.Pattern())
		}
	}
	for _, want := range []string{"IteratorAge", "Throttles", "ApproximateNumberOfMessagesVisible", `"5xx"`, `"4xx"`, "WriteThrottleEvents"} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard has no %s", want)
		}
	}
}

func TestMetricNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range stack.MetricNames {
		if seen[m] {
			t.Errorf("metric %s listed twice", m)
		}
		seen[m] = true
	}
	if len(seen) != 11 {
		t.Errorf("metric names: got %d, want the 11 the functions emit", len(seen))
	}
}

func TestOutputs(t *testing.T) {
	s := defaultStack(t)
	for _, o := range []string{stack.OutputApiURL, stack.OutputTableName, stack.OutputSecretArn, stack.OutputRetryQueueURL,
		stack.OutputRetryDLQURL, stack.OutputStreamDLQURL, stack.OutputAlarmTopicArn, stack.OutputDashboardName, stack.OutputMetricsNamespace} {
		s.match(t, "output "+o, func(tmpl assertions.Template) {
			tmpl.HasOutput(jsii.String(o), &map[string]any{"Value": assertions.Match_AnyValue()})
		})
	}
	outs := s.doc["Outputs"].(map[string]any)
	if got := refTo(outs[stack.OutputSecretArn].(map[string]any)["Value"]); got != s.logicalIDWithPrefix(t, "AWS::SecretsManager::Secret", "Credentials") {
		t.Errorf("SecretArn output: got a reference to %q, want the secret", got)
	}
}

// dashboardBody flattens the dashboard's Fn::Join body into one string
// (tokens as their JSON) so names can be searched.
func dashboardBody(t *testing.T, s *synthesized) string {
	t.Helper()
	body := s.resources[s.ofType("AWS::CloudWatch::Dashboard")[0]].Properties["DashboardBody"]
	join, ok := body.(map[string]any)["Fn::Join"].([]any)
	if !ok {
		raw, _ := json.Marshal(body)
		return string(raw)
	}
	var b strings.Builder
	for _, part := range join[1].([]any) {
		if str, ok := part.(string); ok {
			b.WriteString(str)
		} else {
			raw, _ := json.Marshal(part)
			b.Write(raw)
		}
	}
	return b.String()
}

func asAny(v any) any {
	if l, ok := v.([]any); ok && len(l) == 1 {
		return l[0]
	}
	return v
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

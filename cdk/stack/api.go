package stack

import (
	"encoding/json"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// StageName is the HTTP API stage: $default serves at the API's root URL,
// so clients use https://<id>.execute-api.<region>.amazonaws.com/events.
const StageName = "$default"

// AuthorizationHeader is the authorizer's identity source. Requests without
// the header are refused by API Gateway (401) without invoking the
// authorizer; it is also the authorizer cache key.
const AuthorizationHeader = "$request.header.Authorization"

// TokenPath is the path whose route gets the stricter throttle.
const TokenPath = "/token"

// accessLogFields is the JSON access log record: enough to trace a request
// end to end (requestId is also in the function's logs), attribute latency
// to the gateway, the authorizer or the function, and see who called
// (ip, userAgent). It never includes request headers: the Authorization
// header is a bearer token.
var accessLogFields = [][2]string{
	{"requestId", "$context.requestId"},
	{"time", "$context.requestTime"},
	{"ip", "$context.identity.sourceIp"},
	{"userAgent", "$context.identity.userAgent"},
	{"method", "$context.httpMethod"},
	{"path", "$context.path"},
	{"routeKey", "$context.routeKey"},
	{"protocol", "$context.protocol"},
	{"status", "$context.status"},
	{"responseLength", "$context.responseLength"},
	{"latency", "$context.responseLatency"},
	{"integrationLatency", "$context.integrationLatency"},
	{"integrationStatus", "$context.integrationStatus"},
	{"integrationError", "$context.integrationErrorMessage"},
	{"authorizerError", "$context.authorizer.error"},
	// The API key id the authorizer put in its context (pkg/apigw
	// ContextKeyID): who made the call. An id, not a secret.
	{"keyId", "$context.authorizer.key_id"},
	{"error", "$context.error.message"},
	{"errorType", "$context.error.responseType"},
}

// AccessLogFormat returns the access log format: one JSON object per line,
// keys in the order above.
func AccessLogFormat() string {
	buf := []byte{'{'}
	for i, f := range accessLogFields {
		if i > 0 {
			buf = append(buf, ',')
		}
		k, _ := json.Marshal(f[0])
		v, _ := json.Marshal(f[1])
		buf = append(append(append(buf, k...), ':'), v...)
	}
	return string(append(buf, '}'))
}

// addAPI creates the HTTP API: one route per route table entry, the Lambda
// authorizer on every non-public route, stage throttling with a stricter
// POST /token, JSON access logs and per-route metrics.
func (b *builder) addAPI() {
	b.api = awsapigatewayv2.NewHttpApi(b.stack, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String(b.cfg.StackName),
		Description:        jsii.String("Triggers event inbox API (" + b.cfg.StackName + ")"),
		CreateDefaultStage: jsii.Bool(false),
		CorsPreflight:      b.cors(),
	})

	authorizer := awsapigatewayv2authorizers.NewHttpLambdaAuthorizer(jsii.String("JwtAuthorizer"), b.fns[FuncAuthorizer].fn,
		&awsapigatewayv2authorizers.HttpLambdaAuthorizerProps{
			AuthorizerName: jsii.String("triggers-jwt"),
			// Simple responses ({"isAuthorized", "context"}) imply payload
			// format 2.0.
			ResponseTypes:  &[]awsapigatewayv2authorizers.HttpLambdaResponseType{awsapigatewayv2authorizers.HttpLambdaResponseType_SIMPLE},
			IdentitySource: jsii.Strings(AuthorizationHeader),
			// The trade-off (revocation latency vs invocations) is in
			// docs/deploy.md, "Authorizer cache".
			ResultsCacheTtl: awscdk.Duration_Seconds(jsii.Number(b.cfg.AuthorizerCacheTTL.Seconds())),
		})
	public := awsapigatewayv2.NewHttpNoneAuthorizer()

	integrations := map[string]awsapigatewayv2integrations.HttpLambdaIntegration{}
	var tokenRoutes []awsapigatewayv2.HttpRoute
	for _, r := range b.routes {
		integ, ok := integrations[r.Function]
		if !ok {
			integ = awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(constructID(r.Function)+"Integration"), b.fns[r.Function].fn,
				&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
					PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
				})
			integrations[r.Function] = integ
		}
		opts := &awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.Path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(r.Method)},
			Integration: integ,
			Authorizer:  authorizer,
		}
		if r.Public {
			opts.Authorizer = public
		}
		created := b.api.AddRoutes(opts)
		if r.Path == TokenPath {
			tokenRoutes = append(tokenRoutes, *created...)
		}
	}

	accessLogs := awslogs.NewLogGroup(b.stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/apigateway/" + b.cfg.StackName + "/access"),
		Retention:     retentionDays[b.cfg.LogRetentionDays],
		RemovalPolicy: b.removalPolicy(),
	})
	b.stage = awsapigatewayv2.NewHttpStage(b.stack, jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    b.api,
		StageName:  jsii.String(StageName),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(b.cfg.ThrottleRate),
			BurstLimit: jsii.Number(float64(b.cfg.ThrottleBurst)),
		},
		// Per-route Count/4xx/5xx/Latency (dimension Route) for the
		// dashboard's per-route panels.
		DetailedMetricsEnabled: jsii.Bool(true),
	})
	cfnStage := b.stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
	// The L2 stage takes access log settings only as a jsii interface;
	// the L1 property is plain data.
	cfnStage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(AccessLogFormat()),
	})
	if len(tokenRoutes) > 0 {
		settings := map[string]interface{}{}
		for _, r := range b.routes {
			if r.Path == TokenPath {
				// RouteSettings is untyped JSON in the CloudFormation schema:
				// a CfnStage_RouteSettingsProperty here would be rendered with
				// camelCase keys, which CloudFormation ignores. Plain
				// PascalCase keys, pinned by TestStage.
				settings[r.Pattern()] = map[string]interface{}{
					"ThrottlingRateLimit":    b.cfg.TokenThrottleRate,
					"ThrottlingBurstLimit":   b.cfg.TokenThrottleBurst,
					"DetailedMetricsEnabled": true,
				}
			}
		}
		cfnStage.SetRouteSettings(settings)
		// CloudFormation rejects route settings for a route key that does
		// not exist yet ("Unable to find Route by key"), so the stage waits
		// for the routes it names.
		for _, r := range tokenRoutes {
			b.stage.Node().AddDependency(r)
		}
	}
}

// cors returns the preflight configuration, or nil (no CORS: browsers on
// other origins are refused) when no origin is configured.
func (b *builder) cors() *awsapigatewayv2.CorsPreflightOptions {
	if len(b.cfg.CORSOrigins) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var methods []string
	for _, r := range b.routes {
		if !seen[r.Method] {
			seen[r.Method] = true
			methods = append(methods, r.Method)
		}
	}
	sort.Strings(methods)
	allow := make([]awsapigatewayv2.CorsHttpMethod, len(methods))
	for i, m := range methods {
		allow[i] = awsapigatewayv2.CorsHttpMethod(m)
	}
	return &awsapigatewayv2.CorsPreflightOptions{
		AllowOrigins: jsii.Strings(b.cfg.CORSOrigins...),
		AllowMethods: &allow,
		AllowHeaders: jsii.Strings("authorization", "content-type", "idempotency-key"),
		// Link carries the inbox's next page; Retry-After the throttling
		// hint; Location the created resource.
		ExposeHeaders: jsii.Strings("link", "location", "retry-after"),
		// Bearer tokens, not cookies: credentials mode is never needed.
		AllowCredentials: jsii.Bool(false),
		MaxAge:           awscdk.Duration_Hours(jsii.Number(1)),
	}
}

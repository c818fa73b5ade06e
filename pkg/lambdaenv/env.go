package lambdaenv

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/triggershq/triggers/pkg/apigw"
	"github.com/triggershq/triggers/pkg/httpapi"
)

// Version is reported by GET /health. Set it at build time with
// -ldflags "-X github.com/triggershq/triggers/pkg/lambdaenv.Version=...".
var Version = "dev"

// Env is one function's configuration, logger and AWS configuration. Build
// it once, before lambda.Start, with Setup.
type Env struct {
	Config
	Log *slog.Logger
	AWS aws.Config // for the SDK clients: dynamostore.NewClient, secrets.NewClient
}

// Setup loads the configuration (see Load) and the AWS SDK's, and returns
// the Env. The logger writes JSON to stdout, where Lambda collects it.
func Setup(ctx context.Context, getenv func(string) string, needs ...Need) (*Env, error) {
	cfg, err := Load(getenv, needs...)
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return &Env{Config: cfg, Log: NewLogger(os.Stdout, cfg.LogLevel), AWS: awsCfg}, nil
}

// API returns the HTTP API for cfg, with the logger, limits and version
// filled in from the environment.
func (e *Env) API(cfg httpapi.Config) (*httpapi.API, error) {
	cfg.Logger = e.Log
	cfg.Retention = e.Retention
	cfg.MaxBodyBytes = e.MaxBodyBytes
	cfg.Version = Version
	return httpapi.New(cfg)
}

// HTTP returns the Lambda handler serving the routes of one function
// (routes.ForFunction) through the API Gateway adapter.
func (e *Env) HTTP(api *httpapi.API, function string) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return apigw.Handler(api.FunctionHandler(function), apigw.Options{Logger: e.Log})
}

// NewLogger returns a JSON logger at level that adds the Lambda request id
// (aws_request_id) of the invocation a record was logged in.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(invocationHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})})
}

// invocationHandler adds the invocation's request id to every record logged
// with its context.
type invocationHandler struct{ slog.Handler }

func (h invocationHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		r.AddAttrs(slog.String("aws_request_id", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h invocationHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return invocationHandler{h.Handler.WithAttrs(attrs)}
}

func (h invocationHandler) WithGroup(name string) slog.Handler {
	return invocationHandler{h.Handler.WithGroup(name)}
}

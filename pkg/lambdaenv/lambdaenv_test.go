package lambdaenv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/triggershq/triggers/pkg/lambdaenv"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := lambdaenv.Load(env(map[string]string{"TRIGGERS_TABLE": "t"}), lambdaenv.NeedTable)
	if err != nil {
		t.Fatal(err)
	}
	want := lambdaenv.Config{Table: "t", PendingShards: 8, Retention: 2160 * time.Hour, SecretTTL: 5 * time.Minute,
		MaxBodyBytes: 262144, LogLevel: slog.LevelInfo, MetricsNamespace: "Triggers"}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
}

func TestLoadValues(t *testing.T) {
	t.Parallel()
	c, err := lambdaenv.Load(env(map[string]string{
		"TRIGGERS_TABLE": " events ", "TRIGGERS_SECRET_ID": "arn:aws:secretsmanager:us-east-1:1:secret:x",
		"TRIGGERS_PENDING_SHARDS": "16", "TRIGGERS_RETENTION": "24h", "TRIGGERS_SECRET_TTL": "30s",
		"TRIGGERS_MAX_BODY_BYTES": "1048576", "TRIGGERS_LOG_LEVEL": "debug", "TRIGGERS_METRICS_NAMESPACE": "T2",
		"TRIGGERS_RETRY_QUEUE_URL": "https://sqs/q",
	}), lambdaenv.NeedTable, lambdaenv.NeedSecret, lambdaenv.NeedRetryQueueURL)
	if err != nil {
		t.Fatal(err)
	}
	want := lambdaenv.Config{Table: "events", SecretID: "arn:aws:secretsmanager:us-east-1:1:secret:x", PendingShards: 16,
		Retention: 24 * time.Hour, SecretTTL: 30 * time.Second, MaxBodyBytes: 1 << 20, LogLevel: slog.LevelDebug,
		MetricsNamespace: "T2", RetryQueueURL: "https://sqs/q"}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		vars  map[string]string
		needs []lambdaenv.Need
		want  []string // every one must appear in the error
	}{
		{"missing table and secret", nil, []lambdaenv.Need{lambdaenv.NeedTable, lambdaenv.NeedSecret},
			[]string{"TRIGGERS_TABLE is required", "TRIGGERS_SECRET_ID is required"}},
		{"blank table", map[string]string{"TRIGGERS_TABLE": "  "}, []lambdaenv.Need{lambdaenv.NeedTable}, []string{"TRIGGERS_TABLE is required"}},
		{"bad numbers and durations", map[string]string{
			"TRIGGERS_PENDING_SHARDS": "0", "TRIGGERS_RETENTION": "90d", "TRIGGERS_SECRET_TTL": "-1s",
			"TRIGGERS_MAX_BODY_BYTES": "10", "TRIGGERS_LOG_LEVEL": "loud"}, nil,
			[]string{"TRIGGERS_PENDING_SHARDS", "TRIGGERS_RETENTION", "TRIGGERS_SECRET_TTL", "TRIGGERS_MAX_BODY_BYTES", "TRIGGERS_LOG_LEVEL"}},
		{"body over what fits a Lambda payload", map[string]string{"TRIGGERS_MAX_BODY_BYTES": "8388608"}, nil, []string{"TRIGGERS_MAX_BODY_BYTES"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := lambdaenv.Load(env(tt.vars), tt.needs...)
			if err == nil {
				t.Fatal("got no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoggerAddsRequestID(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := lambdaenv.NewLogger(&buf, slog.LevelInfo).With("fn", "ingest")
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "8476a536-e9f4-11e8-9739-2dfe598c3fcd"})
	log.InfoContext(ctx, "hello")
	log.DebugContext(ctx, "hidden")
	log.Info("no invocation")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2: %s", len(lines), buf.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	if first["aws_request_id"] != "8476a536-e9f4-11e8-9739-2dfe598c3fcd" || first["fn"] != "ingest" {
		t.Errorf("first line: got %v, want the request id and the fn attribute", first)
	}
	if _, ok := second["aws_request_id"]; ok {
		t.Errorf("second line: got %v, want no request id outside an invocation", second)
	}
}

func TestLoadAllowPrivateWebhooks(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{"": false, "0": false, "1": true, "true": true} {
		c, err := lambdaenv.Load(env(map[string]string{"TRIGGERS_ALLOW_PRIVATE_WEBHOOKS": v}))
		if err != nil || c.AllowPrivateWebhooks != want {
			t.Errorf("%q: got %v %v, want %v", v, c.AllowPrivateWebhooks, err, want)
		}
	}
	if _, err := lambdaenv.Load(env(map[string]string{"TRIGGERS_ALLOW_PRIVATE_WEBHOOKS": "yes please"})); err == nil {
		t.Error("got no error for a malformed value")
	}
}

func TestFlushedRunsAfterEveryInvocation(t *testing.T) {
	t.Parallel()
	var order []string
	h := lambdaenv.Flushed(func(_ context.Context, n int) (int, error) {
		order = append(order, "handle")
		return n * 2, nil
	}, func() error { order = append(order, "flush"); return nil }, nil)
	for range 2 {
		if got, err := h(context.Background(), 21); got != 42 || err != nil {
			t.Fatalf("got %v %v, want 42", got, err)
		}
	}
	if strings.Join(order, ",") != "handle,flush,handle,flush" {
		t.Errorf("got %v", order)
	}
}

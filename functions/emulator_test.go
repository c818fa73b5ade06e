// Package functions_test runs the real Lambda function binaries under the
// AWS Lambda Runtime Interface Emulator, against moto_server, with API
// Gateway HTTP API v2 events built from testdata/apigw. It is an integration
// suite: it needs TRIGGERS_INTEGRATION=1 (make test sets it), aws-lambda-rie
// (make tools installs it into ./bin) and moto_server.
package functions_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/triggershq/triggers/internal/testenv"
	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/dynamostore"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// functionNames are the functions this suite runs.
var functionNames = []string{"token", "authorizer", "ingest", "inbox", "ack", "meta", "subscriptions", "stream", "deliver"}

// functionBinary builds every function once per test binary (the flags of
// `make build-functions`, for this host) and returns the named one's path.
func functionBinary(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(testenv.FunctionBinaries(t, functionNames...), name)
}

// emulator is one function running under its own aws-lambda-rie.
type emulator struct {
	*testenv.Lambda
	invokes int
}

// startEmulator runs the named function under the emulator, with env
// added to this process's environment.
func startEmulator(t testing.TB, name string, env map[string]string) *emulator {
	t.Helper()
	return &emulator{Lambda: testenv.StartLambda(t, name, functionBinary(t, name), env)}
}

// invocation is one invoke's result as the emulator reported it.
type invocation struct {
	payload  []byte        // the handler's JSON answer
	wall     time.Duration // round trip seen by the caller
	report   report        // the REPORT line of this invoke
	response events.APIGatewayV2HTTPResponse
}

// invoke sends ev (marshalled to JSON) and waits for the invoke's REPORT line.
func (e *emulator) invoke(t testing.TB, ev any) invocation {
	t.Helper()
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := http.Post(e.URL, "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("invoke %s: %v\n%s", e.Name, err, e.Out.String())
	}
	payload, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	wall := time.Since(start)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke %s: status %d err %v: %s\n%s", e.Name, resp.StatusCode, err, payload, e.Out.String())
	}
	e.invokes++
	inv := invocation{payload: payload, wall: wall, report: e.waitReport(t, e.invokes)}
	if bytes.Contains(payload, []byte(`"errorMessage"`)) {
		t.Fatalf("invoke %s: the function returned an error: %s", e.Name, payload)
	}
	return inv
}

// invokeHTTP sends an API Gateway HTTP API event and decodes the response.
func (e *emulator) invokeHTTP(t testing.TB, ev events.APIGatewayV2HTTPRequest) invocation {
	t.Helper()
	inv := e.invoke(t, ev)
	if err := json.Unmarshal(inv.payload, &inv.response); err != nil {
		t.Fatalf("%s: not an HTTP API response: %v: %s", e.Name, err, inv.payload)
	}
	if inv.response.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(inv.response.Body)
		if err != nil {
			t.Fatalf("%s: bad base64 body: %v", e.Name, err)
		}
		inv.response.Body, inv.response.IsBase64Encoded = string(b), false
	}
	return inv
}

// report is what the emulator's REPORT line (and, on a cold start, its
// INIT REPORT line) says about one invoke.
type report struct {
	duration     time.Duration // "Duration:"
	initDuration time.Duration // "Init Duration:", first invoke only
	initPhase    time.Duration // rapid's "INIT REPORT(durationMs: …)", first invoke only
}

var (
	reportRE     = regexp.MustCompile(`REPORT RequestId: \S+\s+(?:Init Duration: ([\d.]+) ms\s+)?Duration: ([\d.]+) ms`)
	initReportRE = regexp.MustCompile(`INIT REPORT\(durationMs: ([\d.]+)\)`)
)

// waitReport waits for the n-th REPORT line: the emulator prints it just
// after it has answered the invoke.
func (e *emulator) waitReport(t testing.TB, n int) report {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := e.Out.String()
		all := reportRE.FindAllStringSubmatch(out, -1)
		if len(all) >= n {
			m := all[n-1]
			r := report{initDuration: ms(m[1]), duration: ms(m[2])}
			if n == 1 {
				if im := initReportRE.FindStringSubmatch(out); im != nil {
					r.initPhase = ms(im[1])
				}
			}
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no REPORT line for invoke %d:\n%s", e.Name, n, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ms(s string) time.Duration {
	if s == "" {
		return 0
	}
	f, _ := strconv.ParseFloat(s, 64)
	return time.Duration(f * float64(time.Millisecond))
}

// world is the AWS side of a test: a fresh table and a fresh secret in moto
// holding credentials with two API keys.
type world struct {
	endpoint string
	table    string
	secretID string
	sm       *secretsmanager.Client
	db       *dynamodb.Client
	creds    *auth.Credentials
	// envOverride, when set, replaces env() for the emulators started next.
	envOverride map[string]string
	keyA        string // plaintext, every scope
	keyB        string // plaintext, inbox:read only
	idA, idB    string
}

var (
	keysOnce                    sync.Once
	sharedCreds                 *auth.Credentials
	sharedA, sharedB, sharedIDA string
	sharedIDB                   string
	keysErr                     error
)

// newWorld creates the table and the secret. The argon2id hashes of the two
// keys are computed once per test binary.
func newWorld(t testing.TB) *world {
	t.Helper()
	moto := testenv.StartMoto(t)
	keysOnce.Do(func() {
		now := time.Now()
		sharedCreds, keysErr = auth.NewCredentials(now)
		if keysErr != nil {
			return
		}
		var ka, kb auth.APIKey
		if sharedA, ka, keysErr = auth.GenerateAPIKey("zapier-prod", auth.AllScopes(), now); keysErr != nil {
			return
		}
		if sharedB, kb, keysErr = auth.GenerateAPIKey("reader", []auth.Scope{auth.ScopeInboxRead}, now); keysErr != nil {
			return
		}
		sharedIDA, sharedIDB = ka.ID, kb.ID
		if keysErr = sharedCreds.AddAPIKey(ka); keysErr == nil {
			keysErr = sharedCreds.AddAPIKey(kb)
		}
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	suffix := strings.ToLower(rand.Text()[:10])
	w := &world{
		endpoint: moto.Endpoint,
		table:    "triggers-fn-" + suffix,
		secretID: "triggers-fn-" + suffix,
		db:       dynamostore.NewClient(cfg, dynamostore.ClientOptions{Endpoint: moto.Endpoint}),
		sm:       secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(moto.Endpoint) }),
		creds:    sharedCreds.Clone(),
		keyA:     sharedA, keyB: sharedB, idA: sharedIDA, idB: sharedIDB,
	}
	if err := dynamostore.CreateTable(ctx, w.db, w.table); err != nil {
		t.Fatalf("create table: %v", err)
	}
	doc, err := json.Marshal(w.creds)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(w.secretID), SecretString: aws.String(string(doc))}); err != nil {
		t.Fatalf("create secret: %v", err)
	}
	return w
}

// env is the functions' environment, as the CDK stack sets it, pointed at
// moto.
func (w *world) env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":          w.endpoint,
		"AWS_REGION":                "us-east-1",
		"AWS_ACCESS_KEY_ID":         "test",
		"AWS_SECRET_ACCESS_KEY":     "test",
		"AWS_EC2_METADATA_DISABLED": "true",
		"TRIGGERS_TABLE":            w.table,
		"TRIGGERS_SECRET_ID":        w.secretID,
		"TRIGGERS_LOG_LEVEL":        "info",
	}
}

// currentEnv is envOverride when set, else env().
func (w *world) currentEnv() map[string]string {
	if w.envOverride != nil {
		return w.envOverride
	}
	return w.env()
}

// retryQueue creates the webhook retry queue in moto and returns its URL.
func (w *world) retryQueue(t testing.TB) string {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(w.endpoint) })
	out, err := q.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(w.table + "-retry")})
	if err != nil {
		t.Fatalf("create retry queue: %v", err)
	}
	return aws.ToString(out.QueueUrl)
}

// putCredentials stores a new version of the secret.
func (w *world) putCredentials(t testing.TB, c *auth.Credentials) {
	t.Helper()
	doc, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(w.secretID), SecretString: aws.String(string(doc)),
	}); err != nil {
		t.Fatal(err)
	}
	w.creds = c
}

// loadFixture reads an event from testdata/apigw.
func loadFixture[T any](t testing.TB, name string) T {
	t.Helper()
	var v T
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "testdata", "apigw", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return v
}

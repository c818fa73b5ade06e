package main_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/triggershq/triggers/internal/testenv"
	"github.com/triggershq/triggers/pkg/auth"
)

// TestServeOnDynamoDB runs the seed's flow on `triggers serve --store
// dynamodb` against moto: the whole API on the AWS store without deploying.
func TestServeOnDynamoDB(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	moto := testenv.StartMoto(t)
	table := "serve-e2e-" + strings.ToLower(rand.Text()[:10])
	const apiKey = "dynamo-operator-key-0123456789abcdef"
	srv := testenv.StartServer(t, testenv.ServerOptions{
		Args: []string{"--store", "dynamodb", "--table", table, "--dynamodb-endpoint", moto.Endpoint, "--create-table"},
		Env: []string{"TRIGGERS_API_KEY=" + apiKey, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
			"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true"},
	})
	if !strings.Contains(srv.Stdout(), "DynamoDB table "+table) {
		t.Errorf("startup line does not name the table:\n%s", srv.Stdout())
	}
	c := &client{t: t, base: srv.URL}
	if status, _, body := c.do("GET", "/health", "", nil); status != http.StatusOK {
		t.Fatalf("GET /health: got %d %s", status, body)
	}
	c.login(apiKey)
	payload := `{"n":1.50,"deep":{"a":[1,2,{"b":null}]}}`
	id := c.send("dynamo.flow", payload)
	events := c.inbox()
	if !contains(events, id) || string(events[0].Payload) != payload {
		t.Fatalf("inbox: got %+v, want %s with payload %s", events, id, payload)
	}
	if status, _, body := c.do("POST", "/inbox/"+id+"/ack", "application/json", []byte("{}")); status != http.StatusOK {
		t.Fatalf("ack: got %d %s", status, body)
	}
	if contains(c.inbox(), id) {
		t.Errorf("acked event %s still in the inbox", id)
	}
	// The /token limiter is the DynamoDB one: failures are counted in the table.
	for i := 0; i < 12; i++ {
		form := "username=api&password=wrong-key-" + string(rune('a'+i))
		status, hdr, _ := c.do("POST", "/token", "application/x-www-form-urlencoded", []byte(form))
		if status == http.StatusTooManyRequests {
			if hdr.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			return
		}
	}
	t.Error("12 failed /token attempts were never limited")
}

// TestServeFlagsRefuseNonsense: a wrong --store is a usage error (exit 2).
func TestServeFlagsRefuseNonsense(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	runCLI(t, 2, "serve", "--store", "postgres")
	runCLI(t, 2, "serve", "--store", "dynamodb", "--pending-shards", "0")
	runCLI(t, 2, "serve", "--trusted-proxies", "10.0.0.0/8,not-a-cidr")
}

// TestServeWithSecretsManagerKeyring: --secret-id reads the credentials
// from the AWS deployment's secret (the keys `triggers keys hash` makes).
func TestServeWithSecretsManagerKeyring(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	moto := testenv.StartMoto(t)
	name := "serve-secret-" + strings.ToLower(rand.Text()[:10])
	creds, err := auth.NewCredentials(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	plaintext, key, err := auth.GenerateAPIKey("from-secret", auth.AllScopes(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := creds.AddAPIKey(key); err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(creds)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadDefaultConfig(t.Context(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(moto.Endpoint) })
	if _, err := sm.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(string(doc))}); err != nil {
		t.Fatal(err)
	}
	srv := testenv.StartServer(t, testenv.ServerOptions{
		Args: []string{"--secret-id", name},
		Env: []string{"AWS_ENDPOINT_URL=" + moto.Endpoint, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
			"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true"},
	})
	if srv.APIKey != "" {
		t.Errorf("a key was generated although credentials come from the secret")
	}
	c := &client{t: t, base: srv.URL}
	c.login(plaintext)
	id := c.send("secret.keyring", `{}`)
	if !contains(c.inbox(), id) {
		t.Fatalf("event %s not in the inbox", id)
	}
}

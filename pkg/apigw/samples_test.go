package apigw_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/triggershq/triggers/pkg/apigw"
)

// viaJSON gives v the shape it has after a trip through JSON, as API Gateway
// forwards an authorizer's context (numbers become float64).
func viaJSON(t testing.TB, v map[string]any) map[string]any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func decodeSeen(t testing.TB, resp events.APIGatewayV2HTTPResponse) seen {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status: got %d, want 200; body %s", resp.StatusCode, resp.Body)
	}
	var s seen
	if err := json.Unmarshal([]byte(resp.Body), &s); err != nil {
		t.Fatalf("decode: %v in %s", err, resp.Body)
	}
	return s
}

// TestAWSDocumentationEvent sends the payload format 2.0 sample from the API
// Gateway Developer Guide through the adapter.
func TestAWSDocumentationEvent(t *testing.T) {
	t.Parallel()
	var ev events.APIGatewayV2HTTPRequest
	loadEvent(t, "aws-doc-http-api-v2-event.json", &ev)
	s := echo(t, ev)
	checks := []struct {
		what      string
		got, want any
	}{
		{"method", s.Method, "POST"},
		{"path", s.Path, "/my/path"},
		{"raw query", s.RawQuery, "parameter1=value1&parameter1=value2&parameter2=value"},
		{"parameter1", s.Query["parameter1"], []string{"value1", "value2"}},
		{"Header1", s.Header.Get("Header1"), "value1"},
		{"Header2 (comma-joined by API Gateway)", s.Header.Get("Header2"), "value1,value2"},
		{"Cookie", s.Header.Get("Cookie"), "cookie1; cookie2"},
		{"body", string(s.Body), "Hello from Lambda"},
		{"host", s.Host, "id.execute-api.us-east-1.amazonaws.com"},
		{"remote address", s.RemoteAddr, "IP:0"},
		{"request id", s.Header.Get("X-Request-Id"), "id"},
		{"proto", s.Proto, "HTTP/1.1"},
		// The sample's Lambda authorizer context is not ours: no principal.
		{"principal", s.Principal == nil, true},
	}
	for _, c := range checks {
		got, _ := json.Marshal(c.got)
		want, _ := json.Marshal(c.want)
		if string(got) != string(want) {
			t.Errorf("%s: got %s, want %s", c.what, got, want)
		}
	}
}

// TestAWSDocumentationEventRoundTrip checks that the sample decodes into the
// aws-lambda-go type without losing a member we read.
func TestAWSDocumentationEventRoundTrip(t *testing.T) {
	t.Parallel()
	var ev events.APIGatewayV2HTTPRequest
	loadEvent(t, "aws-doc-http-api-v2-event.json", &ev)
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var again events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(data, &again); err != nil {
		t.Fatal(err)
	}
	if again.RawPath != ev.RawPath || again.RequestContext.HTTP != ev.RequestContext.HTTP ||
		!slices.Equal(again.Cookies, ev.Cookies) || again.Body != ev.Body ||
		again.RequestContext.Authorizer.Lambda["exampleKey1"] != "exampleValue1" {
		t.Errorf("round trip: got %+v, want %+v", again, ev)
	}
}

// TestAWSDocumentationAuthorizerEvent runs the documented authorizer request
// through the real authorizer: its identitySource ("user1") is no bearer
// token, so the answer is a denial, not an error.
func TestAWSDocumentationAuthorizerEvent(t *testing.T) {
	t.Parallel()
	var req events.APIGatewayV2CustomAuthorizerV2Request
	loadEvent(t, "aws-doc-authorizer-v2-event.json", &req)
	if req.Type != "REQUEST" || req.RouteArn == "" || !slices.Equal(req.IdentitySource, []string{"user1", "123"}) {
		t.Fatalf("decoded: got %+v", req)
	}
	b := newAuth(t)
	resp, err := apigw.Authorizer(b.authn, apigw.AuthorizerOptions{})(context.Background(), req)
	if err != nil || resp.IsAuthorized {
		t.Errorf("got isAuthorized %v err %v, want a denial", resp.IsAuthorized, err)
	}
}

// TestAuthorizerResponseShape checks that our response encodes to the
// documented simple response members.
func TestAuthorizerResponseShape(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	loadEvent(t, "aws-doc-authorizer-simple-response.json", &doc)
	ours, err := json.Marshal(events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: map[string]any{"exampleKey": "exampleValue"}})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(ours, &got); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(doc)
	if string(a) != string(b) {
		t.Errorf("simple response: got %s, want %s", a, b)
	}
}

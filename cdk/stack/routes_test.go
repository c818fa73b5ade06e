package stack_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/triggershq/triggers/cdk/stack"
	"github.com/triggershq/triggers/pkg/routes"
)

// deployedRoute is one API Gateway route as the template deploys it.
type deployedRoute struct {
	function   string // physical function name the integration invokes
	authType   string // NONE or CUSTOM
	authorizer string // logical id of the authorizer, "" if none
}

// deployedRoutes follows every AWS::ApiGatewayV2::Route through its
// integration to the function it invokes.
func (s *synthesized) deployedRoutes(t *testing.T) map[string]deployedRoute {
	t.Helper()
	out := map[string]deployedRoute{}
	for _, id := range s.ofType("AWS::ApiGatewayV2::Route") {
		p := s.resources[id].Properties
		key, _ := p["RouteKey"].(string)
		if _, dup := out[key]; dup {
			t.Errorf("route key %q deployed twice", key)
		}
		// Target: {"Fn::Join": ["", ["integrations/", {"Ref": integration}]]}
		var integ string
		if join, ok := p["Target"].(map[string]any)["Fn::Join"].([]any); ok && len(join) == 2 {
			if parts, ok := join[1].([]any); ok && len(parts) == 2 && parts[0] == "integrations/" {
				integ = refTo(parts[1])
			}
		}
		ir, ok := s.resources[integ]
		if !ok || ir.Type != "AWS::ApiGatewayV2::Integration" {
			t.Fatalf("route %s: target %v is not an integration of the template", key, p["Target"])
		}
		if got := ir.Properties["PayloadFormatVersion"]; got != "2.0" {
			t.Errorf("route %s: integration payload format %v, want 2.0", key, got)
		}
		fn, ok := s.resources[refTo(ir.Properties["IntegrationUri"])]
		if !ok || fn.Type != "AWS::Lambda::Function" {
			t.Fatalf("route %s: integration URI %v is not a function of the template", key, ir.Properties["IntegrationUri"])
		}
		authType, _ := p["AuthorizationType"].(string)
		out[key] = deployedRoute{
			function:   fn.Properties["FunctionName"].(string),
			authType:   authType,
			authorizer: refTo(p["AuthorizerId"]),
		}
	}
	return out
}

// checkRoutesMatch is the drift check: exactly one deployed route per table
// entry, reaching the table's function, guarded by the authorizer exactly
// when the route is not public.
func checkRoutesMatch(t *testing.T, s *synthesized, table []routes.Route) {
	t.Helper()
	authorizers := s.ofType("AWS::ApiGatewayV2::Authorizer")
	if len(authorizers) != 1 {
		t.Fatalf("authorizers: got %v, want exactly one", authorizers)
	}
	deployed := s.deployedRoutes(t)
	if len(deployed) != len(table) {
		t.Errorf("deployed routes: got %d, want %d (one per table entry)", len(deployed), len(table))
	}
	for _, r := range table {
		t.Run(r.Pattern(), func(t *testing.T) {
			d, ok := deployed[r.Pattern()]
			if !ok {
				t.Fatalf("route %s is in the table but not deployed", r.Pattern())
			}
			if want := stack.FunctionName(s.cfg.StackName, r.Function); d.function != want {
				t.Errorf("function: got %s, want %s", d.function, want)
			}
			switch {
			case r.Public && (d.authType != "NONE" || d.authorizer != ""):
				t.Errorf("public route: got authorization %s (authorizer %q), want NONE", d.authType, d.authorizer)
			case !r.Public && (d.authType != "CUSTOM" || d.authorizer != authorizers[0]):
				t.Errorf("protected route: got authorization %s (authorizer %q), want CUSTOM with %s", d.authType, d.authorizer, authorizers[0])
			}
		})
	}
	for key := range deployed {
		found := false
		for _, r := range table {
			found = found || r.Pattern() == key
		}
		if !found {
			t.Errorf("route %s is deployed but not in the table", key)
		}
	}
}

func TestRoutesMatchTable(t *testing.T) {
	checkRoutesMatch(t, defaultStack(t), routes.Table)
}

// The routes the later issues add (subscriptions, /openapi.json, /docs)
// appear with no change to the stack, and the public ones stay public.
func TestStackFollowsTable(t *testing.T) {
	rt := extendedTable()
	s := synth(t, stack.Props{Config: testConfig(), Routes: rt})
	checkRoutesMatch(t, s, rt)

	deployed := s.deployedRoutes(t)
	for _, key := range []string{"GET /health", "POST /token", "GET /openapi.json", "GET /docs"} {
		if d := deployed[key]; d.authType != "NONE" || d.authorizer != "" {
			t.Errorf("%s: got authorization %s (authorizer %q), want none", key, d.authType, d.authorizer)
		}
	}
	// One integration (and one set of permissions) per function, however
	// many routes it serves.
	fns := map[string]bool{}
	for _, r := range rt {
		fns[r.Function] = true
	}
	if got := len(s.ofType("AWS::ApiGatewayV2::Integration")); got != len(fns) {
		t.Errorf("integrations: got %d, want %d (one per function)", got, len(fns))
	}
}

func TestNewRejectsBadRouteTables(t *testing.T) {
	tests := []struct {
		name  string
		table []routes.Route
		want  string
	}{
		{"unknown function", []routes.Route{{Method: "GET", Path: "/x", Function: "nope"}}, "not an HTTP function"},
		{"non-HTTP function", []routes.Route{{Method: "GET", Path: "/x", Function: stack.FuncStream}}, "not an HTTP function"},
		{"duplicate", []routes.Route{
			{Method: "GET", Path: "/x", Function: routes.FuncMeta},
			{Method: "GET", Path: "/x", Function: routes.FuncInbox},
		}, "declared twice"},
		{"bad method", []routes.Route{{Method: "FETCH", Path: "/x", Function: routes.FuncMeta}}, "unsupported method"},
		{"relative path", []routes.Route{{Method: "GET", Path: "x", Function: routes.FuncMeta}}, "must start with /"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jsiiMu.Lock()
			defer jsiiMu.Unlock()
			_, err := stack.New(awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())}),
				stack.Props{Config: testConfig(), Routes: tt.table})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

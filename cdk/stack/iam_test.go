package stack_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/triggershq/triggers/cdk/stack"
	"github.com/triggershq/triggers/pkg/routes"
)

// statement is one IAM policy statement with its origin.
type statement struct {
	where     string
	Effect    string
	Action    []string
	NotAction []string
	Resource  []any
	NotRes    []any
	Principal any
	Condition map[string]any
}

// policyStatements walks every IAM policy document in the template:
// identity policies (AWS::IAM::Policy, ManagedPolicy, inline role policies)
// and resource policies (queue and topic policies).
func policyStatements(t *testing.T, s *synthesized) []statement {
	t.Helper()
	var out []statement
	add := func(where string, doc any) {
		d, _ := doc.(map[string]any)
		var list []any
		switch st := d["Statement"].(type) {
		case []any:
			list = st
		case map[string]any:
			list = []any{st}
		}
		for i, raw := range list {
			m := raw.(map[string]any)
			st := statement{
				where:     fmt.Sprintf("%s#%d", where, i),
				Effect:    m["Effect"].(string),
				Action:    asStrings(m["Action"]),
				NotAction: asStrings(m["NotAction"]),
				Principal: m["Principal"],
			}
			st.Resource = asList(m["Resource"])
			st.NotRes = asList(m["NotResource"])
			st.Condition, _ = m["Condition"].(map[string]any)
			out = append(out, st)
		}
	}
	for id, r := range s.resources {
		switch r.Type {
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy", "AWS::SecretsManager::ResourcePolicy":
			add(id, r.Properties["PolicyDocument"])
		case "AWS::IAM::Role":
			for _, p := range asList(r.Properties["Policies"]) {
				add(id+"/inline", p.(map[string]any)["PolicyDocument"])
			}
		}
	}
	return out
}

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

// wildcardOK lists the actions that have no resource-level permissions, so
// "Resource": "*" is the only way to grant them. Empty: nothing in this
// stack needs one (log groups are explicit, no X-Ray, stream access is
// scoped to the table's streams).
var wildcardOK = map[string]bool{}

func TestLeastPrivilege(t *testing.T) {
	s := defaultStack(t)
	stmts := policyStatements(t, s)
	if len(stmts) == 0 {
		t.Fatal("no policy statements found")
	}
	for _, st := range stmts {
		if st.Effect != "Allow" {
			// Deny statements (the queues' TLS-only policy) only narrow.
			continue
		}
		if len(st.NotAction) > 0 || len(st.NotRes) > 0 {
			t.Errorf("%s: Allow with NotAction/NotResource grants everything else", st.where)
		}
		for _, a := range st.Action {
			if a == "*" || strings.HasSuffix(a, ":*") || strings.Contains(a, "*") {
				t.Errorf("%s: wildcard action %q", st.where, a)
			}
		}
		for _, r := range st.Resource {
			if r == "*" {
				for _, a := range st.Action {
					if !wildcardOK[a] {
						t.Errorf("%s: action %s on Resource \"*\"", st.where, a)
					}
				}
			}
		}
		if st.Principal == "*" || reflect.DeepEqual(st.Principal, map[string]any{"AWS": "*"}) {
			t.Errorf("%s: Allow to any principal", st.where)
		}
	}
	// No AWS managed policies: AWSLambdaBasicExecutionRole alone grants
	// logs:CreateLogGroup on "*".
	for _, id := range s.ofType("AWS::IAM::Role") {
		if mp := s.resources[id].Properties["ManagedPolicyArns"]; mp != nil {
			t.Errorf("role %s has managed policies %v", id, mp)
		}
	}
}

// grants is what one function's role may do: action -> logical ids (or
// rendered ARNs) of the resources.
type grants map[string][]string

func roleGrants(t *testing.T, s *synthesized, fn string) (grants, []statement) {
	t.Helper()
	_, f := s.functionByName(t, fn)
	role := refTo(f.Properties["Role"])
	var stmts []statement
	for _, id := range s.ofType("AWS::IAM::Policy") {
		p := s.resources[id].Properties
		for _, r := range asList(p["Roles"]) {
			if refTo(r) == role {
				add := policyStatements(t, &synthesized{resources: map[string]resource{id: s.resources[id]}})
				stmts = append(stmts, add...)
			}
		}
	}
	g := grants{}
	for _, st := range stmts {
		for _, a := range st.Action {
			for _, r := range st.Resource {
				g[a] = append(g[a], resourceName(r))
			}
		}
	}
	for a := range g {
		sort.Strings(g[a])
	}
	return g, stmts
}

// resourceName renders a resource reference compactly: the logical id of a
// Ref/GetAtt, or the JSON of anything else (index and stream ARNs).
func resourceName(r any) string {
	if id := refTo(r); id != "" {
		return id
	}
	raw, _ := json.Marshal(r)
	return string(raw)
}

// Each function's role grants exactly these actions: a new action shows up
// here as a failing test, to be reviewed rather than slipped in.
func TestFunctionPermissions(t *testing.T) {
	s := defaultStack(t)
	logs := []string{"logs:CreateLogStream", "logs:PutLogEvents"}
	table := func(a ...string) []string {
		for i := range a {
			a[i] = "dynamodb:" + a[i]
		}
		return a
	}
	want := map[string][]string{
		routes.FuncToken:         concat(logs, []string{"secretsmanager:GetSecretValue"}, table("GetItem", "UpdateItem", "PutItem")),
		stack.FuncAuthorizer:     concat(logs, []string{"secretsmanager:GetSecretValue"}),
		routes.FuncIngest:        concat(logs, table("PutItem", "GetItem")),
		routes.FuncInbox:         concat(logs, table("GetItem", "Query")),
		routes.FuncAck:           concat(logs, table("UpdateItem", "GetItem")),
		routes.FuncSubscriptions: concat(logs, table("PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query")),
		routes.FuncMeta:          concat(logs, table("GetItem")),
		stack.FuncStream: concat(logs, table("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams", "Query", "GetItem", "PutItem", "UpdateItem"),
			[]string{"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}),
		stack.FuncDeliver: concat(logs, table("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"),
			[]string{"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}),
	}
	for _, spec := range stack.Functions {
		t.Run(spec.Name, func(t *testing.T) {
			g, _ := roleGrants(t, s, spec.Name)
			got := keys(g)
			w := append([]string(nil), want[spec.Name]...)
			sort.Strings(w)
			if !reflect.DeepEqual(got, w) {
				t.Errorf("actions:\n got %v\nwant %v", got, w)
			}
			// Logs only to its own log group.
			_, f := s.functionByName(t, spec.Name)
			own := refTo(f.Properties["LoggingConfig"].(map[string]any)["LogGroup"])
			for _, a := range logs {
				if !reflect.DeepEqual(g[a], []string{own}) {
					t.Errorf("%s on %v, want only its log group %s", a, g[a], own)
				}
			}
		})
	}
}

// The resources behind the actions: the table's indexes only for inbox's
// Query, the stream only for the stream function, the one secret.
func TestPermissionResources(t *testing.T) {
	s := defaultStack(t)
	tableID := s.logicalIDWithPrefix(t, "AWS::DynamoDB::Table", "Events")
	secretID := s.logicalIDWithPrefix(t, "AWS::SecretsManager::Secret", "Credentials")
	retryID := s.logicalIDWithPrefix(t, "AWS::SQS::Queue", "RetryQueue")
	index := func(name string) string {
		return `{"Fn::Join":["",[{"Fn::GetAtt":["` + tableID + `","Arn"]},"/index/` + name + `"]]}`
	}
	streams := `{"Fn::Join":["",[{"Fn::GetAtt":["` + tableID + `","Arn"]},"/stream/*"]]}`

	for _, spec := range stack.Functions {
		g, _ := roleGrants(t, s, spec.Name)
		for action, res := range g {
			switch {
			case action == "dynamodb:Query" && spec.Name == routes.FuncInbox:
				if want := []string{index("gsi1"), index("gsi2")}; !reflect.DeepEqual(res, want) {
					t.Errorf("%s %s: got %v, want the two pending indexes only", spec.Name, action, res)
				}
			case strings.HasPrefix(action, "dynamodb:") && isStreamAction(action):
				if spec.Name != stack.FuncStream || !reflect.DeepEqual(res, []string{streams}) {
					t.Errorf("%s %s: got %v, want only the stream function on the table's streams", spec.Name, action, res)
				}
			case strings.HasPrefix(action, "dynamodb:"):
				if !reflect.DeepEqual(res, []string{tableID}) {
					t.Errorf("%s %s: got %v, want the table only", spec.Name, action, res)
				}
			case strings.HasPrefix(action, "secretsmanager:"):
				if !reflect.DeepEqual(res, []string{secretID}) {
					t.Errorf("%s %s: got %v, want the secret only", spec.Name, action, res)
				}
			case action == "sqs:SendMessage" && spec.Name == stack.FuncStream:
				if want := []string{s.logicalIDWithPrefix(t, "AWS::SQS::Queue", "StreamDLQ"), retryID}; !sameSet(res, want) {
					t.Errorf("stream sqs:SendMessage: got %v, want the retry queue and the stream DLQ", res)
				}
			case strings.HasPrefix(action, "sqs:") && spec.Name == stack.FuncStream:
				if want := []string{s.logicalIDWithPrefix(t, "AWS::SQS::Queue", "StreamDLQ")}; !reflect.DeepEqual(res, want) {
					t.Errorf("stream %s: got %v, want the stream DLQ", action, res)
				}
			case strings.HasPrefix(action, "sqs:"):
				for _, r := range res {
					if r != retryID {
						t.Errorf("%s %s: got %v, want the retry queue only", spec.Name, action, res)
					}
				}
			}
		}
	}
}

// The authorizer reads the one secret and writes its own logs: nothing
// else, in statements that say exactly that.
func TestAuthorizerRoleReadsOnlyTheSecret(t *testing.T) {
	s := defaultStack(t)
	_, stmts := roleGrants(t, s, stack.FuncAuthorizer)
	secretID := s.logicalIDWithPrefix(t, "AWS::SecretsManager::Secret", "Credentials")
	_, f := s.functionByName(t, stack.FuncAuthorizer)
	logGroup := refTo(f.Properties["LoggingConfig"].(map[string]any)["LogGroup"])
	if len(stmts) != 2 {
		t.Fatalf("authorizer statements: got %d, want 2 (secret, logs): %+v", len(stmts), stmts)
	}
	for _, st := range stmts {
		switch {
		case reflect.DeepEqual(st.Action, []string{"secretsmanager:GetSecretValue"}):
			if len(st.Resource) != 1 || refTo(st.Resource[0]) != secretID {
				t.Errorf("GetSecretValue on %v, want only %s", st.Resource, secretID)
			}
		case reflect.DeepEqual(st.Action, []string{"logs:CreateLogStream", "logs:PutLogEvents"}):
			if len(st.Resource) != 1 || refTo(st.Resource[0]) != logGroup {
				t.Errorf("logs on %v, want only %s", st.Resource, logGroup)
			}
		default:
			t.Errorf("unexpected authorizer statement %+v", st)
		}
	}
	// And no function but token and the authorizer can read the secret.
	for _, spec := range stack.Functions {
		g, _ := roleGrants(t, s, spec.Name)
		if _, ok := g["secretsmanager:GetSecretValue"]; ok != (spec.Name == routes.FuncToken || spec.Name == stack.FuncAuthorizer) {
			t.Errorf("%s can read the secret: %v", spec.Name, ok)
		}
	}
}

// The token and meta functions are held to their own items by the
// dynamodb:LeadingKeys condition.
func TestLeadingKeysConditions(t *testing.T) {
	s := defaultStack(t)
	for fn, prefix := range map[string]string{routes.FuncToken: "RL#*", routes.FuncMeta: "PING#*"} {
		_, stmts := roleGrants(t, s, fn)
		for _, st := range stmts {
			if !strings.HasPrefix(st.Action[0], "dynamodb:") {
				continue
			}
			cond, _ := st.Condition["ForAllValues:StringLike"].(map[string]any)
			if got := asStrings(cond["dynamodb:LeadingKeys"]); !reflect.DeepEqual(got, []string{prefix}) {
				t.Errorf("%s %v: LeadingKeys %v, want [%s]", fn, st.Action, got, prefix)
			}
		}
	}
}

func isStreamAction(a string) bool {
	switch a {
	case "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams":
		return true
	}
	return false
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	return reflect.DeepEqual(a, b)
}

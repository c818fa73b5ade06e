package stack_test

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/triggershq/triggers/cdk/stack"
	"github.com/triggershq/triggers/pkg/routes"
)

// zipDir holds placeholder function zips (one file, "bootstrap"), so the
// template tests do not depend on `make build`.
var zipDir string

func TestMain(m *testing.M) {
	// jsii starts its Node kernel while packages initialise, before this
	// runs, so its Node-version banner can only be silenced from outside:
	// the Makefile sets JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20.
	dir, err := os.MkdirTemp("", "triggers-cdk-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	zipDir = filepath.Join(dir, "functions")
	if err := writePlaceholderZips(zipDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	jsii.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

func writePlaceholderZips(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range stack.Functions {
		out, err := os.Create(filepath.Join(dir, f.Name+".zip"))
		if err != nil {
			return err
		}
		zw := zip.NewWriter(out)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate})
		if err == nil {
			// Distinct content per function, as real binaries would be.
			_, err = fmt.Fprintf(w, "#!/bin/sh\n# placeholder for %s\n", f.Name)
		}
		if err == nil {
			err = zw.Close()
		}
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// testConfig is the configuration the tests synthesize: the defaults, with
// the placeholder zips and a recognisable stack name.
func testConfig() stack.Config {
	c := stack.Defaults()
	c.StackName = "triggers-test"
	c.Dist = zipDir
	return c
}

// synthesized is one synthesized stack: the CDK assertions view and the
// plain template for walks the matchers cannot express.
type synthesized struct {
	cfg       stack.Config
	tmpl      assertions.Template
	doc       map[string]any
	resources map[string]resource
	file      string // the template written to disk, for cfn-lint
}

type resource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	DependsOn      any            `json:"DependsOn"`
	DeletionPolicy string         `json:"DeletionPolicy"`
	UpdateReplace  string         `json:"UpdateReplacePolicy"`
}

// jsiiMu serialises synthesis and matcher calls: they all go through the
// one jsii kernel process, and a failed matcher panics through it.
var jsiiMu sync.Mutex

func synth(t testing.TB, p stack.Props) *synthesized {
	t.Helper()
	jsiiMu.Lock()
	defer jsiiMu.Unlock()
	outdir, err := os.MkdirTemp(filepath.Dir(zipDir), "cdk.out-")
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	s, err := stack.New(app, p)
	if err != nil {
		t.Fatalf("stack.New: %v", err)
	}
	tmpl := assertions.Template_FromStack(s, nil)
	raw, err := json.MarshalIndent(tmpl.ToJSON(), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	out := &synthesized{cfg: p.Config, tmpl: tmpl, file: filepath.Join(outdir, "template.json")}
	if err := os.WriteFile(out.file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &out.doc); err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Resources map[string]resource `json:"Resources"`
	}
	if err := json.Unmarshal(raw, &parsed); err != nil {
		t.Fatal(err)
	}
	out.resources = parsed.Resources
	return out
}

var (
	defaultOnce sync.Once
	defaultSyn  *synthesized
)

// defaultStack is the stack with testConfig and routes.Table, synthesized
// once per test binary (synthesis takes seconds).
func defaultStack(t testing.TB) *synthesized {
	t.Helper()
	defaultOnce.Do(func() { defaultSyn = synth(t, stack.Props{Config: testConfig()}) })
	if defaultSyn == nil {
		t.Fatal("default stack failed to synthesize (see the first failure)")
	}
	return defaultSyn
}

// match runs a CDK assertions matcher, turning its panic (how jsii reports
// a mismatch) into a test failure with the matcher's explanation.
func (s *synthesized) match(t testing.TB, what string, f func(tmpl assertions.Template)) {
	t.Helper()
	jsiiMu.Lock()
	defer jsiiMu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f(s.tmpl)
}

// ofType returns the logical ids of the resources of one type, sorted.
func (s *synthesized) ofType(typ string) []string {
	var ids []string
	for id, r := range s.resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// functionByName returns the logical id of the function with that physical
// name.
func (s *synthesized) functionByName(t testing.TB, fn string) (string, resource) {
	t.Helper()
	want := stack.FunctionName(s.cfg.StackName, fn)
	for _, id := range s.ofType("AWS::Lambda::Function") {
		if s.resources[id].Properties["FunctionName"] == want {
			return id, s.resources[id]
		}
	}
	t.Fatalf("no function named %s", want)
	return "", resource{}
}

// refTo reports the logical id a {"Ref": id} or {"Fn::GetAtt": [id, attr]}
// value points at ("" for anything else).
func refTo(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
		id, _ := ga[0].(string)
		return id
	}
	return ""
}

// logicalIDWithPrefix finds the single resource of typ whose logical id
// starts with prefix (CDK appends a hash).
func (s *synthesized) logicalIDWithPrefix(t testing.TB, typ, prefix string) string {
	t.Helper()
	var found []string
	for _, id := range s.ofType(typ) {
		if strings.HasPrefix(id, prefix) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s with id prefix %q: got %v, want exactly one", typ, prefix, found)
	}
	return found[0]
}

// asStrings turns a JSON string-or-array value into a slice.
func asStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			} else {
				b, _ := json.Marshal(e)
				out = append(out, string(b))
			}
		}
		return out
	}
	return nil
}

// extendedTable is routes.Table plus the routes the later issues add (those
// not in it yet), to prove the stack follows the table rather than a list
// of its own.
func extendedTable() []routes.Route {
	rt := append([]routes.Route(nil), routes.Table...)
	have := map[string]bool{}
	for _, r := range rt {
		have[r.Pattern()] = true
	}
	for _, r := range []routes.Route{
		{Method: "GET", Path: "/openapi.json", Function: routes.FuncMeta, Public: true},
		{Method: "GET", Path: "/docs", Function: routes.FuncMeta, Public: true},
		{Method: "POST", Path: "/subscriptions", Function: routes.FuncSubscriptions, Scope: "subscriptions:manage"},
		{Method: "GET", Path: "/subscriptions", Function: routes.FuncSubscriptions, Scope: "subscriptions:manage"},
		{Method: "GET", Path: "/subscriptions/{id}", Function: routes.FuncSubscriptions, Scope: "subscriptions:manage"},
		{Method: "DELETE", Path: "/subscriptions/{id}", Function: routes.FuncSubscriptions, Scope: "subscriptions:manage"},
		{Method: "GET", Path: "/subscriptions/{id}/deliveries", Function: routes.FuncSubscriptions, Scope: "subscriptions:manage"},
	} {
		if !have[r.Pattern()] {
			rt = append(rt, r)
		}
	}
	return rt
}

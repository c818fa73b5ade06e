package main

import (
	"archive/zip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/triggershq/triggers/cdk/stack"
)

// run is what `cdk synth` executes (cdk.json: "go run ."): the CLI passes
// context in CDK_CONTEXT_JSON and the output directory in CDK_OUTDIR.
// These tests drive it the same way, without the CLI.
func TestRunSynthesizesFromContext(t *testing.T) {
	dist := placeholderZips(t)
	out := t.TempDir()
	t.Setenv("CDK_OUTDIR", out)
	t.Setenv("CDK_CONTEXT_JSON", `{"stackName":"triggers-ci","dist":"`+dist+`","retainData":"false"}`)
	restartKernel()
	if err := run(); err != nil {
		t.Fatalf("run: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "triggers-ci.template.json"))
	if err != nil {
		t.Fatalf("template not written: %v", err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type           string
			DeletionPolicy string
			Properties     map[string]any
		}
	}
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, r := range tmpl.Resources {
		switch r.Type {
		case "AWS::Lambda::Function":
			names[r.Properties["FunctionName"].(string)] = true
		case "AWS::DynamoDB::Table":
			if r.DeletionPolicy != "Delete" {
				t.Errorf("retainData=false: table DeletionPolicy %q, want Delete", r.DeletionPolicy)
			}
		}
	}
	for _, f := range stack.Functions {
		if !names["triggers-ci-"+f.Name] {
			t.Errorf("function triggers-ci-%s missing (have %v)", f.Name, names)
		}
	}
}

func TestRunReportsBadInput(t *testing.T) {
	dist := placeholderZips(t)
	tests := []struct {
		name, context, want string
	}{
		{"no zips", `{"dist":"` + t.TempDir() + `"}`, "make build"},
		{"bad stack name", `{"dist":"` + dist + `","stackName":"Prod_1"}`, "stackName"},
		{"cache too long", `{"dist":"` + dist + `","authorizerCacheSeconds":"3600"}`, "authorizerCacheSeconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CDK_OUTDIR", t.TempDir())
			t.Setenv("CDK_CONTEXT_JSON", tt.context)
			restartKernel()
			err := run()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

// restartKernel stops the jsii Node kernel so the next CDK call starts a
// new one with this process's current environment. The CDK app reads
// CDK_OUTDIR and CDK_CONTEXT_JSON inside the kernel, which jsii starts while
// packages initialise, before any t.Setenv; under the CDK CLI the variables
// are set before the process starts, so run itself needs no such step.
func restartKernel() { jsii.Close() }

func placeholderZips(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range stack.Functions {
		out, err := os.Create(filepath.Join(dir, f.Name+".zip"))
		if err != nil {
			t.Fatal(err)
		}
		zw := zip.NewWriter(out)
		w, err := zw.Create("bootstrap")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("placeholder " + f.Name)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

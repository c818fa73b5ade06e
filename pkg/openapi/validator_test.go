package openapi_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/triggershq/triggers/internal/testenv"
	"github.com/triggershq/triggers/pkg/openapi"
)

// TestOpenAPISpecValidator runs a real OpenAPI validator,
// openapi-spec-validator (Python; it ships on the build image), on the
// embedded document, and on two broken copies that it must reject, so a
// validator that accepts anything cannot pass the test.
func TestOpenAPISpecValidator(t *testing.T) {
	testenv.Integration(t)
	t.Parallel()
	bin, err := exec.LookPath("openapi-spec-validator")
	if err != nil {
		testenv.Unavailable(t, "openapi-spec-validator is not on PATH (pip install openapi-spec-validator): %v", err)
	}
	dir := t.TempDir()
	run := func(name string, doc []byte) (string, error) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, path).CombinedOutput()
		return string(out), err
	}

	if out, err := run("openapi.json", openapi.Document().Body); err != nil {
		t.Fatalf("openapi-spec-validator rejects the document: %v\n%s", err, out)
	} else {
		t.Logf("openapi-spec-validator: %s", strings.TrimSpace(out))
	}

	broken := map[string]func(doc map[string]any){
		"no info": func(doc map[string]any) { delete(doc, "info") },
		"dangling $ref": func(doc map[string]any) {
			schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
			delete(schemas, "Event")
		},
	}
	for name, breakIt := range broken {
		var doc map[string]any
		if err := json.Unmarshal(openapi.Document().Body, &doc); err != nil {
			t.Fatal(err)
		}
		breakIt(doc)
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := run(strings.ReplaceAll(name, " ", "-")+".json", b); err == nil {
			t.Errorf("openapi-spec-validator accepted a document with %s:\n%s", name, out)
		}
	}
}

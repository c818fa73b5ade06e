package httpapi_test

import (
	"bytes"
	"fmt"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/triggershq/triggers/pkg/openapi"
)

// contractURL is the base URL the document is registered under in the
// schema compiler. Nothing is ever fetched from it: the document is added
// as a resource, and the compiler's only loader reads file: URLs.
const contractURL = "https://triggers.invalid/openapi.json"

// methods are the OpenAPI path item keys that name operations.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// apiDoc is the embedded OpenAPI document, decoded once, with a JSON
// Schema 2020-12 compiler that knows it, so any schema inside it can be
// compiled by its JSON pointer and its $refs resolve within the document.
type apiDoc struct {
	root map[string]any

	mu       sync.Mutex
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema // by JSON pointer
}

var (
	apiDocOnce sync.Once
	apiDocVal  *apiDoc
	apiDocErr  error
)

// loadAPIDoc returns the shared decoded document.
func loadAPIDoc(t testing.TB) *apiDoc {
	t.Helper()
	apiDocOnce.Do(func() {
		// jsonschema.UnmarshalJSON keeps numbers as json.Number, as the
		// validator expects.
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(openapi.Document().Body))
		if err != nil {
			apiDocErr = fmt.Errorf("decode openapi.json: %w", err)
			return
		}
		root, ok := v.(map[string]any)
		if !ok {
			apiDocErr = fmt.Errorf("openapi.json is not a JSON object")
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		c.AssertFormat()
		if err := c.AddResource(contractURL, v); err != nil {
			apiDocErr = fmt.Errorf("add openapi.json to the schema compiler: %w", err)
			return
		}
		apiDocVal = &apiDoc{root: root, compiler: c, schemas: map[string]*jsonschema.Schema{}}
	})
	if apiDocErr != nil {
		t.Fatal(apiDocErr)
	}
	return apiDocVal
}

// escapePointer escapes one JSON pointer token (RFC 6901).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func ptrJoin(ptr string, tokens ...string) string {
	for _, tok := range tokens {
		ptr += "/" + escapePointer(tok)
	}
	return ptr
}

// at returns the node at a JSON pointer, or nil.
func (d *apiDoc) at(ptr string) any {
	var node any = d.root
	if ptr == "" {
		return node
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch n := node.(type) {
		case map[string]any:
			node = n[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil
			}
			node = n[i]
		default:
			return nil
		}
	}
	return node
}

// object returns the JSON object at ptr after following OpenAPI $refs
// (parameters, responses, headers, request bodies: objects whose $ref has
// no siblings), and the pointer it ends up at.
func (d *apiDoc) object(t testing.TB, ptr string) (map[string]any, string) {
	t.Helper()
	for range 10 {
		obj, ok := d.at(ptr).(map[string]any)
		if !ok {
			return nil, ptr
		}
		ref, ok := obj["$ref"].(string)
		if !ok {
			return obj, ptr
		}
		if !strings.HasPrefix(ref, "#/") {
			t.Fatalf("%s: $ref %q is not local to the document", ptr, ref)
		}
		ptr = strings.TrimPrefix(ref, "#")
	}
	t.Fatalf("%s: $ref chain too long", ptr)
	return nil, ""
}

// schema compiles the JSON Schema at ptr (once).
func (d *apiDoc) schema(t testing.TB, ptr string) *jsonschema.Schema {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.schemas[ptr]; ok {
		return s
	}
	s, err := d.compiler.Compile(contractURL + "#" + ptr)
	if err != nil {
		t.Fatalf("compile schema %s: %v", ptr, err)
	}
	d.schemas[ptr] = s
	return s
}

// validate checks a decoded JSON value against the schema at ptr.
func (d *apiDoc) validate(t testing.TB, ptr string, v any) error {
	t.Helper()
	return d.schema(t, ptr).Validate(v)
}

// operation is one documented method of one path.
type operation struct {
	pattern string // "POST /inbox/{id}/ack", the routes.Table form
	ptr     string // "/paths/~1inbox~1{id}~1ack/post"
	op      map[string]any
}

// operations lists the document's operations by route pattern.
func (d *apiDoc) operations() map[string]operation {
	out := map[string]operation{}
	paths, _ := d.root["paths"].(map[string]any)
	for path, item := range paths {
		item, _ := item.(map[string]any)
		for _, m := range methods {
			if op, ok := item[m].(map[string]any); ok {
				pattern := strings.ToUpper(m) + " " + path
				out[pattern] = operation{pattern: pattern, ptr: ptrJoin("/paths", path, m), op: op}
			}
		}
	}
	return out
}

// responsePtr returns the pointer of the documented response for a route
// and status, after $refs; ok is false if the document has none.
func (d *apiDoc) responsePtr(t testing.TB, pattern string, status int) (string, bool) {
	t.Helper()
	op, ok := d.operations()[pattern]
	if !ok {
		return "", false
	}
	raw := ptrJoin(op.ptr, "responses", strconv.Itoa(status))
	if d.at(raw) == nil {
		return "", false
	}
	_, ptr := d.object(t, raw)
	return ptr, true
}

// documentedStatuses lists the statuses an operation documents.
func (d *apiDoc) documentedStatuses(op operation) []int {
	var out []int
	responses, _ := op.op["responses"].(map[string]any)
	for code := range responses {
		if n, err := strconv.Atoi(code); err == nil {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// checkResponse validates a real response against the documented response
// object at ptr: every required header is there, every documented header
// that is there matches its schema, the media type is one the document
// lists, and the body matches that media type's schema.
func (d *apiDoc) checkResponse(t testing.TB, ptr string, res response) {
	t.Helper()
	resp, _ := d.object(t, ptr)
	if resp == nil {
		t.Fatalf("%s is not a response object", ptr)
	}
	headers, _ := resp["headers"].(map[string]any)
	for name := range headers {
		h, hptr := d.object(t, ptrJoin(ptr, "headers", name))
		values := res.Header.Values(name)
		if len(values) == 0 {
			if required, _ := h["required"].(bool); required {
				t.Errorf("%s: header %s is documented as required but absent", ptr, name)
			}
			continue
		}
		for _, v := range values {
			if err := d.validate(t, ptrJoin(hptr, "schema"), v); err != nil {
				t.Errorf("%s: header %s: %q does not match its schema: %v", ptr, name, v, err)
			}
		}
	}

	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if len(res.Body) != 0 {
			t.Errorf("%s documents no body, got %d bytes: %.200s", ptr, len(res.Body), res.Body)
		}
		return
	}
	ct := res.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		t.Fatalf("%s: Content-Type %q: %v", ptr, ct, err)
	}
	if _, ok := content[mt]; !ok {
		t.Fatalf("%s: Content-Type %q is not documented (documented: %v)", ptr, ct, keys(content))
	}
	var body any
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		if body, err = jsonschema.UnmarshalJSON(bytes.NewReader(res.Body)); err != nil {
			t.Fatalf("%s: body is not JSON: %v: %.200s", ptr, err, res.Body)
		}
	} else {
		body = string(res.Body)
	}
	if err := d.validate(t, ptrJoin(ptr, "content", mt, "schema"), body); err != nil {
		t.Errorf("%s: body does not match the %s schema: %v\nbody: %.1000s", ptr, mt, err, res.Body)
	}
}

// checkRequest validates a request body the server accepted against the
// operation's documented request body for its media type, so the document
// never forbids what the server takes.
func (d *apiDoc) checkRequest(t testing.TB, op operation, r req) {
	t.Helper()
	rb, rbPtr := d.object(t, ptrJoin(op.ptr, "requestBody"))
	if rb == nil {
		return // the operation documents no body: whatever is sent is ignored
	}
	mt, _, err := mime.ParseMediaType(r.header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("%s: request Content-Type %q: %v", op.pattern, r.header.Get("Content-Type"), err)
	}
	content, _ := rb["content"].(map[string]any)
	if _, ok := content[mt]; !ok {
		t.Fatalf("%s: the server accepted a %s body the document does not list (documented: %v)", op.pattern, mt, keys(content))
	}
	var body any
	switch mt {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(r.body)
		if err != nil {
			t.Fatalf("%s: form body: %v", op.pattern, err)
		}
		obj := map[string]any{}
		for k, vs := range form {
			obj[k] = vs[0]
		}
		body = obj
	default:
		if body, err = jsonschema.UnmarshalJSON(strings.NewReader(r.body)); err != nil {
			t.Fatalf("%s: request body is not JSON: %v", op.pattern, err)
		}
	}
	if err := d.validate(t, ptrJoin(rbPtr, "content", mt, "schema"), body); err != nil {
		t.Errorf("%s: a request body the server accepted breaks the documented schema: %v\nbody: %.500s", op.pattern, err, r.body)
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

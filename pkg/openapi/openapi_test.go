package openapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/triggershq/triggers/pkg/openapi"
)

func TestDocumentIsOpenAPI31(t *testing.T) {
	t.Parallel()
	d := openapi.Document()
	if d.ContentType != "application/json" {
		t.Errorf("ContentType: got %q, want application/json", d.ContentType)
	}
	var doc struct {
		OpenAPI           string         `json:"openapi"`
		JSONSchemaDialect string         `json:"jsonSchemaDialect"`
		Info              map[string]any `json:"info"`
		Servers           []struct {
			URL string `json:"url"`
		} `json:"servers"`
		Paths map[string]any `json:"paths"`
	}
	dec := json.NewDecoder(bytes.NewReader(d.Body))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if dec.More() {
		t.Error("openapi.json has data after the document")
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi: got %q, want 3.1.0", doc.OpenAPI)
	}
	if doc.JSONSchemaDialect != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("jsonSchemaDialect: got %q, want JSON Schema 2020-12", doc.JSONSchemaDialect)
	}
	if v, _ := doc.Info["version"].(string); v == "" {
		t.Error("info.version is empty")
	}
	// A relative server keeps "Try it" tools and the SDK generators on the
	// host that served the document, whatever its name.
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/" {
		t.Errorf("servers: got %+v, want one with url /", doc.Servers)
	}
}

// The file is edited by hand; invisible characters in it would be
// unreviewable, so they must be written as \u escapes.
func TestDocumentHasNoInvisibleCharacters(t *testing.T) {
	t.Parallel()
	for i, line := range strings.Split(string(openapi.Document().Body), "\n") {
		for _, r := range line {
			if r != ' ' && (unicode.IsControl(r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) || r == '\uFFFD' || unicode.Is(unicode.Cf, r)) {
				t.Errorf("openapi.json line %d: raw %U; write it as a \\u escape", i+1, r)
			}
		}
	}
}

func TestETags(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^"[0-9a-f]{32}"$`)
	for name, a := range map[string]openapi.Asset{"document": openapi.Document(), "page": openapi.Page()} {
		if !valid.MatchString(a.ETag) {
			t.Errorf("%s ETag %q is not a quoted 128-bit hex tag", name, a.ETag)
		}
		sum := sha256.Sum256(a.Body)
		if want := `"` + hex.EncodeToString(sum[:16]) + `"`; a.ETag != want {
			t.Errorf("%s ETag: got %s, want %s (derived from the body)", name, a.ETag, want)
		}
	}
	if openapi.Document().ETag == openapi.Page().ETag {
		t.Error("document and page share an ETag")
	}
}

var (
	scriptRE = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	styleRE  = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
)

// The policy allows exactly the page's inline script and style, by the
// hashes of what the browser will see, and nothing from elsewhere.
func TestPagePolicy(t *testing.T) {
	t.Parallel()
	p := openapi.Page()
	if p.ContentType != "text/html; charset=utf-8" {
		t.Errorf("ContentType: got %q", p.ContentType)
	}
	html := string(p.Body)
	scripts := scriptRE.FindAllStringSubmatch(html, -1)
	styles := styleRE.FindAllStringSubmatch(html, -1)
	if len(scripts) != 1 || len(styles) != 1 {
		t.Fatalf("page has %d inline scripts and %d style blocks, want one of each", len(scripts), len(styles))
	}
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	directives := map[string]string{}
	for d := range strings.SplitSeq(p.ContentSecurityPolicy, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		if _, dup := directives[name]; dup {
			t.Errorf("directive %s given twice", name)
		}
		directives[name] = value
	}
	want := map[string]string{
		"default-src":               "'none'",
		"script-src":                hash(scripts[0][1]),
		"style-src":                 hash(styles[0][1]),
		"connect-src":               "'self'",
		"img-src":                   "data:",
		"base-uri":                  "'none'",
		"form-action":               "'none'",
		"frame-ancestors":           "'none'",
		"require-trusted-types-for": "'script'",
	}
	for name, value := range want {
		if directives[name] != value {
			t.Errorf("%s: got %q, want %q", name, directives[name], value)
		}
	}
	for name := range directives {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected directive %s %s", name, directives[name])
		}
	}
}

// The page references nothing outside this server: no absolute URLs, no
// protocol-relative ones, no external scripts, styles, fonts or imports,
// and the script builds the DOM without HTML-parsing sinks (Trusted Types
// would refuse them anyway).
func TestPageIsSelfContained(t *testing.T) {
	t.Parallel()
	html := string(openapi.Page().Body)
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)https?://`),
		regexp.MustCompile(`(?i)(src|href|action)\s*=\s*["']?//`),
		regexp.MustCompile(`(?i)<script[^>]+src`),
		regexp.MustCompile(`(?i)<link[^>]+rel=["']?stylesheet`),
		regexp.MustCompile(`(?i)@import|@font-face|url\(`),
		regexp.MustCompile(`\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(`),
	} {
		if m := bad.FindString(html); m != "" {
			t.Errorf("page contains %q (%s)", m, bad)
		}
	}
	if !strings.Contains(html, "fetch('openapi.json'") {
		t.Error("page does not fetch openapi.json relative to itself")
	}
}

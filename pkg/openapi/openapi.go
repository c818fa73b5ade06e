package openapi

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Asset is one static response body with what an HTTP handler needs to
// serve it.
type Asset struct {
	// Body is the content. It is shared: callers must not modify it.
	Body []byte
	// ContentType is the value of the Content-Type header.
	ContentType string
	// ETag is a strong entity tag (quoted), derived from Body.
	ETag string
	// ContentSecurityPolicy is the header value the asset must be served
	// with, or "" when it needs none.
	ContentSecurityPolicy string
}

//go:embed openapi.json
var document []byte

//go:embed page/index.html page/docs.css page/docs.js
var page embed.FS

var (
	spec = Asset{Body: document, ContentType: "application/json", ETag: etag(document)}
	docs = mustBuildPage()
)

// Document returns the OpenAPI document, served at GET /openapi.json.
func Document() Asset { return spec }

// Page returns the reference page, served at GET /docs. It fetches
// "openapi.json" relative to its own URL, so it works under any path
// prefix (an API Gateway stage, a reverse proxy) as long as both routes
// share it.
func Page() Asset { return docs }

// etag is a strong validator: the first 128 bits of the content's SHA-256.
func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// mustBuildPage inlines the style sheet and script into the HTML. A failure
// is a broken build (the files are embedded), so it panics at init, where
// every test of every importer notices at once.
func mustBuildPage() Asset {
	a, err := buildPage(page)
	if err != nil {
		panic("openapi: " + err.Error())
	}
	return a
}

func buildPage(fsys embed.FS) (Asset, error) {
	read := func(name string) (string, error) {
		b, err := fsys.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", name, err)
		}
		// The HTML parser turns CRLF into LF before the browser hashes an
		// inline block, so hash what the browser will see.
		return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
	}
	html, err := read("page/index.html")
	if err != nil {
		return Asset{}, err
	}
	css, err := read("page/docs.css")
	if err != nil {
		return Asset{}, err
	}
	js, err := read("page/docs.js")
	if err != nil {
		return Asset{}, err
	}
	// An inline block ends at the first closing tag of its kind, whatever
	// the quoting around it.
	if strings.Contains(strings.ToLower(js), "</script") {
		return Asset{}, fmt.Errorf("page/docs.js must not contain </script")
	}
	if strings.Contains(strings.ToLower(css), "</style") {
		return Asset{}, fmt.Errorf("page/docs.css must not contain </style")
	}
	for _, marker := range []string{"{{style}}", "{{script}}"} {
		if strings.Count(html, marker) != 1 {
			return Asset{}, fmt.Errorf("page/index.html must hold %s exactly once", marker)
		}
	}
	html = strings.Replace(html, "{{style}}", css, 1)
	html = strings.Replace(html, "{{script}}", js, 1)
	body := []byte(html)
	return Asset{
		Body:                  body,
		ContentType:           "text/html; charset=utf-8",
		ETag:                  etag(body),
		ContentSecurityPolicy: pagePolicy(css, js),
	}, nil
}

// pagePolicy allows the page's own inline style and script (by hash, so no
// other inline code runs), same-origin fetches (openapi.json), and nothing
// else: no other scripts, styles, fonts, frames, form targets or plugins.
// Trusted Types are required, which the script honours by building the
// page with DOM calls only.
func pagePolicy(css, js string) string {
	return strings.Join([]string{
		"default-src 'none'",
		"script-src " + hashSource(js),
		"style-src " + hashSource(css),
		"connect-src 'self'",
		"img-src data:",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
		"require-trusted-types-for 'script'",
	}, "; ")
}

func hashSource(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

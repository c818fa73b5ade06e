// Package openapi holds the OpenAPI 3.1 document of the HTTP API and the
// reference page that renders it, both built into the binary so that every
// deployment serves the description of exactly the code it runs.
//
// The document (openapi.json) is written by hand and kept honest by tests:
// pkg/httpapi's contract test drives every documented (route, status) pair
// through the real handlers and validates each answer against it, and fails
// when a route of pkg/routes.Table is missing from it (or the other way
// round); this package's tests run a real OpenAPI validator on it and load
// the page in headless Chromium. docs/openapi.md says how to change it.
//
// The reference page (page/) is plain HTML, CSS and JavaScript with no
// dependencies. The style sheet and script are inlined into the HTML at
// init, and the page's Content-Security-Policy allows exactly those two
// inline blocks by their SHA-256 hashes plus same-origin fetches, so the
// page cannot load anything from the network even by mistake.
//
// Everything here is computed once at init and read-only afterwards: the
// accessors are safe for concurrent use, and the byte slices they return
// are shared and must not be modified.
package openapi

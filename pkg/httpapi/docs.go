package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/triggershq/triggers/pkg/openapi"
)

// staticCacheControl lets caches keep the document and the page for a few
// minutes: they change only when the server is upgraded, and a stale copy
// is revalidated cheaply with If-None-Match.
const staticCacheControl = "public, max-age=300"

// openAPIDocument serves the OpenAPI document built into the binary.
func (a *API) openAPIDocument(w http.ResponseWriter, r *http.Request) error {
	serveAsset(w, r, openapi.Document())
	return nil
}

// docsPage serves the reference page. Its Content-Security-Policy allows
// only its own inline script and style and same-origin fetches, so it works
// (and can only work) without any network beyond this server.
func (a *API) docsPage(w http.ResponseWriter, r *http.Request) error {
	page := openapi.Page()
	h := w.Header()
	h.Set("Content-Security-Policy", page.ContentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	serveAsset(w, r, page)
	return nil
}

// serveAsset answers a static asset with its validator, or 304 when the
// request's If-None-Match already names it. Unlike http.ServeContent it
// serves no ranges: the answers stay the two the OpenAPI document lists.
func serveAsset(w http.ResponseWriter, r *http.Request, asset openapi.Asset) {
	h := w.Header()
	h.Set("ETag", asset.ETag)
	h.Set("Cache-Control", staticCacheControl) // overrides the middleware's no-store
	if etagMatches(r.Header.Values("If-None-Match"), asset.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", asset.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(asset.Body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(asset.Body)
}

// etagMatches applies If-None-Match's weak comparison (RFC 9110 §13.1.2):
// "*" or any listed tag equal to ours once a W/ prefix is ignored.
func etagMatches(headers []string, etag string) bool {
	for _, header := range headers {
		for tag := range strings.SplitSeq(header, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
				return true
			}
		}
	}
	return false
}

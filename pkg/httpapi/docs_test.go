package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/triggershq/triggers/pkg/openapi"
	"github.com/triggershq/triggers/pkg/routes"
)

// Over a real connection, HEAD answers the static routes with GET's
// headers and no body, and the meta Lambda function serves them too.
func TestStaticRoutesOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for name, h := range map[string]http.Handler{"single binary": e.handler, "meta function": e.api.FunctionHandler(routes.FuncMeta)} {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		for path, asset := range map[string]openapi.Asset{"/openapi.json": openapi.Document(), "/docs": openapi.Page()} {
			for _, method := range []string{"GET", "HEAD"} {
				t.Run(name+" "+method+" "+path, func(t *testing.T) {
					r, err := http.NewRequest(method, srv.URL+path, nil)
					if err != nil {
						t.Fatal(err)
					}
					res, err := srv.Client().Do(r)
					if err != nil {
						t.Fatal(err)
					}
					defer res.Body.Close()
					body, err := io.ReadAll(res.Body)
					if err != nil {
						t.Fatal(err)
					}
					if res.StatusCode != http.StatusOK {
						t.Fatalf("status: got %d, want 200", res.StatusCode)
					}
					for header, want := range map[string]string{
						"Content-Type":   asset.ContentType,
						"Content-Length": strconv.Itoa(len(asset.Body)),
						"ETag":           asset.ETag,
						"Cache-Control":  "public, max-age=300",
					} {
						if got := res.Header.Get(header); got != want {
							t.Errorf("%s: got %q, want %q", header, got, want)
						}
					}
					wantBody := string(asset.Body)
					if method == "HEAD" {
						wantBody = ""
					}
					if string(body) != wantBody {
						t.Errorf("body: got %d bytes, want %d", len(body), len(wantBody))
					}
				})
			}
		}
	}
}

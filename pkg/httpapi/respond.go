package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/triggershq/triggers/pkg/event"
)

// writeJSON answers v as application/json. It encodes into a buffer first,
// so a value that cannot be encoded becomes a clean 500 rather than half a
// response, and without HTML escaping, so payload bytes go out exactly as
// they came in ("<" stays "<", not "\u003c").
func writeJSON(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return event.Internal("encode response", err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

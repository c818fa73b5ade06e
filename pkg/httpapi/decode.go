package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/triggershq/triggers/pkg/event"
)

// jsonMediaTypes is what 415 answers list as accepted for JSON bodies.
const jsonMediaTypes = "application/json or application/*+json (charset utf-8 or none)"

// mediaKind classifies a request's Content-Type.
type mediaKind int

const (
	mediaOther mediaKind = iota
	mediaJSON
	mediaForm
)

// requestMedia classifies r's Content-Type. JSON is application/json or any
// application/*+json; a charset, if given, must be UTF-8 (RFC 8259 §8.1).
// A Content-Encoding other than identity is unsupported too: we would
// otherwise report compressed bytes as malformed JSON.
func requestMedia(r *http.Request) mediaKind {
	if enc := r.Header.Values("Content-Encoding"); len(enc) > 1 || len(enc) == 1 && !strings.EqualFold(strings.TrimSpace(enc[0]), "identity") {
		return mediaOther
	}
	values := r.Header.Values("Content-Type")
	if len(values) != 1 {
		return mediaOther
	}
	mt, params, err := mime.ParseMediaType(values[0])
	if err != nil {
		return mediaOther
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return mediaOther
	}
	switch {
	case mt == "application/json", strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"):
		return mediaJSON
	case mt == "application/x-www-form-urlencoded":
		return mediaForm
	}
	return mediaOther
}

// unsupportedMedia is the 415 for a body we cannot read; accepted explains
// what we can read, and acceptPost lists those media types for the
// Accept-Post header (RFC 9110 §15.5.16 points 415 answers to it).
func unsupportedMedia(w http.ResponseWriter, r *http.Request, accepted, acceptPost string) error {
	w.Header().Set("Accept-Post", acceptPost)
	got := r.Header.Get("Content-Type")
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return event.Errorf(CodeUnsupportedMedia, "Content-Encoding is not supported; send the body uncompressed as %s", accepted)
	}
	if got == "" {
		return event.Errorf(CodeUnsupportedMedia, "missing Content-Type; send the body as %s", accepted)
	}
	if len(got) > 100 {
		got = got[:100] + "…"
	}
	return event.Errorf(CodeUnsupportedMedia, "unsupported Content-Type %q; send the body as %s", got, accepted)
}

// readBody reads r's body, refusing more than max bytes: a declared
// Content-Length over the limit is refused before reading anything, and a
// chunked body is cut off by http.MaxBytesReader as soon as it passes it.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	tooLarge := event.Errorf(event.CodeTooLarge, "request body exceeds the limit of %d bytes", max)
	if r.ContentLength > max {
		// The rest of the body is not worth reading to keep the connection.
		w.Header().Set("Connection", "close")
		return nil, tooLarge
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		// MaxBytesReader cannot tell the server to close through our
		// ResponseWriter wrapper, so say it in the header.
		w.Header().Set("Connection", "close")
		return nil, tooLarge
	case err != nil:
		// The client went away or sent a broken chunked encoding.
		return nil, event.Errorf(CodeMalformedJSON, "could not read the request body")
	}
	return body, nil
}

// utf8BOM is tolerated before a JSON body (RFC 8259 §8.1 lets a parser
// ignore it); some Windows tools write one.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// jsonObject holds the top-level members of a JSON object body, undecoded,
// so that payload bytes are never turned into Go values (numbers would go
// through float64) and each field's JSON type can be checked and named.
type jsonObject map[string]json.RawMessage

// decodeObject parses body as one JSON object. Malformed JSON (including
// an empty body and trailing data) is CodeMalformedJSON; valid JSON that is
// not an object, or an object naming one of the known members twice, is a
// 422 (duplicates would let two parsers disagree about what we stored).
func decodeObject(body []byte, known ...string) (jsonObject, error) {
	body = bytes.TrimPrefix(body, utf8BOM)
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, event.Errorf(CodeMalformedJSON, "request body is empty; send a JSON object")
	}
	if !json.Valid(body) {
		return nil, malformedJSON(body)
	}
	if trimmed[0] != '{' {
		return nil, invalidIn("body", kindObjectType, "", "request body must be a JSON object, got %s", jsonKind(trimmed))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // the '{'
		return nil, malformedJSON(body)
	}
	obj := make(jsonObject)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformedJSON(body)
		}
		key, _ := tok.(string) // object keys are always strings in valid JSON
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, malformedJSON(body)
		}
		if _, dup := obj[key]; dup && isKnown(key, known) {
			return nil, invalidIn("body", kindValue, key, "%s is given more than once", key)
		}
		obj[key] = bytes.TrimSpace(raw)
	}
	return obj, nil
}

func isKnown(key string, known []string) bool {
	for _, k := range known {
		if k == key {
			return true
		}
	}
	return false
}

// malformedJSON explains where body stops being JSON. The syntax error
// quotes at most one offending character, never the body.
func malformedJSON(body []byte) error {
	var raw json.RawMessage
	err := json.Unmarshal(body, &raw)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return event.Errorf(CodeMalformedJSON, "request body is not valid JSON: %s (at byte %d)", se.Error(), se.Offset)
	}
	return event.Errorf(CodeMalformedJSON, "request body is not valid JSON")
}

// jsonKind names the JSON type of a valid, trimmed JSON value.
func jsonKind(v []byte) string {
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// stringField returns the string member name of obj. It must be present
// and a JSON string whose text is valid UTF-8; the returned string is then
// checked by the caller's domain rules.
func (obj jsonObject) stringField(name string) (string, *fieldError) {
	raw, ok := obj[name]
	if !ok {
		return "", invalidIn("body", kindMissing, name, "%s is required", name)
	}
	if raw[0] != '"' {
		return "", invalidIn("body", kindStringType, name, "%s must be a string, got %s", name, jsonKind(raw))
	}
	if !utf8.Valid(raw) {
		return "", invalidIn("body", kindValue, name, "%s must be valid UTF-8", name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", invalidIn("body", kindStringType, name, "%s must be a string", name)
	}
	// encoding/json turns an unpaired surrogate escape (\ud800) into
	// U+FFFD; refuse rather than store text the client did not send.
	if strings.ContainsRune(s, utf8.RuneError) {
		return "", invalidIn("body", kindValue, name, "%s must be valid Unicode text (no unpaired surrogates or U+FFFD)", name)
	}
	return s, nil
}

// domainField turns a domain validation error about a body field into a
// located one.
func domainField(in string, err error) *fieldError {
	var e *event.Error
	if errors.As(err, &e) {
		return &fieldError{in: in, kind: kindValue, err: e}
	}
	// Domain validators return *event.Error; anything else is not shown.
	return &fieldError{in: in, kind: kindValue, err: event.Invalid("", "invalid input")}
}

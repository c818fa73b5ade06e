package dynamostore

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"

	"github.com/triggershq/triggers/pkg/event"
)

// The cursor is base64url (unpadded) JSON:
//
//	{"v":1,"f":"<query fingerprint>","p":["<id>","","-",...]}
//
// with one position per shard: the id of the last item the merge consumed
// from that shard (the next query starts just after it), "" for a shard
// nothing was consumed from yet, "-" for an exhausted shard. It names no
// table, index or key: the store rebuilds every key from the query and the
// ids, and only accepts canonical event ids, so a forged cursor can at most
// skip events of the very query it was issued for. The fingerprint binds a
// cursor to the filters (type, source) it was issued for, and the position
// count to the table's shard count.
const (
	cursorVersion = 1
	exhausted     = "-"
	// maxCursorLen bounds what we decode: 64 shards of 36-character ids
	// with quotes and commas is about 2.5 KB of JSON, 3.4 KB of base64.
	maxCursorLen = 4096
)

type cursorJSON struct {
	V int      `json:"v"`
	F string   `json:"f"`
	P []string `json:"p"`
}

// queryFingerprint names the filters a cursor belongs to.
func queryFingerprint(q event.ListQuery) string {
	h := sha256.New()
	h.Write([]byte(q.Type))
	h.Write([]byte{0})
	h.Write([]byte(q.Source))
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func encodeCursor(fp string, positions []string) string {
	b, _ := json.Marshal(cursorJSON{V: cursorVersion, F: fp, P: positions}) // cannot fail: strings only
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the per-shard positions of cursor, or a fresh start
// for "". Anything we could not have issued for this query and shard count
// is CodeInvalid on field "cursor".
func decodeCursor(cursor, fp string, shards int) ([]string, error) {
	if cursor == "" {
		return make([]string, shards), nil
	}
	bad := event.Invalid("cursor", "cursor is not valid for this query; start again without it")
	if len(cursor) > maxCursorLen {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, bad
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c cursorJSON
	if err := dec.Decode(&c); err != nil || dec.More() {
		return nil, bad
	}
	if c.V != cursorVersion || c.F != fp || len(c.P) != shards {
		return nil, bad
	}
	live := false
	for _, p := range c.P {
		switch p {
		case exhausted:
			continue
		case "":
		default:
			if id, err := event.ParseID(p); err != nil || id != p {
				return nil, bad
			}
		}
		live = true
	}
	if !live { // we never issue a cursor with nothing left to read
		return nil, bad
	}
	return c.P, nil
}

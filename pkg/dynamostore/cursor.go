package dynamostore

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/triggershq/triggers/pkg/event"
)

// The cursor is base64url (unpadded) JSON:
//
//	{"v":1,"f":"<query fingerprint>","p":["<id","<=id","-",...]}
//
// with one position per shard: "<id" resumes with the events older than id
// (the last one the merge consumed from that shard, or where its last query
// stopped), "<=id" with id itself and older (the first event read but not
// consumed), "-" marks an exhausted shard. Every live position is an id, so
// a page never sees events stored after the walk began.
//
// It names no table, index or key: the store builds every key from the
// query, and uses a position only as a bound on the index sort key, after
// checking it is a canonical event id. A forged cursor can at most skip
// events of the very query it was issued for. The fingerprint binds a cursor
// to the filters (type, source) it was issued for, and the position count
// to the table's shard count.
const (
	cursorVersion = 1
	exhaustedMark = "-"
	// maxCursorLen bounds what we decode: 64 shards of "<=" and a
	// 36-character id, with quotes and commas, is about 2.6 KB of JSON and
	// 3.5 KB of base64.
	maxCursorLen = 4096
)

// position is where one shard's next query starts.
type position struct {
	id        string // "" only on a first page: start at the newest
	inclusive bool   // id itself is still to come
	exhausted bool   // nothing left in the shard
}

func (p position) String() string {
	switch {
	case p.exhausted:
		return exhaustedMark
	case p.inclusive:
		return "<=" + p.id
	}
	return "<" + p.id
}

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

func encodeCursor(fp string, positions []position) string {
	ps := make([]string, len(positions))
	for i, p := range positions {
		ps[i] = p.String()
	}
	b, _ := json.Marshal(cursorJSON{V: cursorVersion, F: fp, P: ps}) // cannot fail: strings only
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the per-shard positions of cursor, or a fresh start
// for "". Anything we could not have issued for this query and shard count
// is CodeInvalid on field "cursor".
func decodeCursor(cursor, fp string, shards int) ([]position, error) {
	if cursor == "" {
		return make([]position, shards), nil
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
	positions := make([]position, shards)
	live := false
	for i, p := range c.P {
		var pos position
		switch {
		case p == exhaustedMark:
			pos.exhausted = true
		case strings.HasPrefix(p, "<="):
			pos = position{id: p[2:], inclusive: true}
		case strings.HasPrefix(p, "<"):
			pos = position{id: p[1:]}
		default:
			return nil, bad
		}
		if !pos.exhausted {
			if id, err := event.ParseID(pos.id); err != nil || id != pos.id {
				return nil, bad
			}
			live = true
		}
		positions[i] = pos
	}
	if !live { // we never issue a cursor with nothing left to read
		return nil, bad
	}
	return positions, nil
}

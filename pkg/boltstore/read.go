package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/triggershq/triggers/pkg/event"
)

// Get returns an event in any status; see event.Store.
func (s *Store) Get(ctx context.Context, id string) (event.Event, error) {
	canon, err := event.ParseID(id)
	if err != nil {
		return event.Event{}, err
	}
	key, _ := idKey(canon)
	return s.get(ctx, "get "+canon, key, s.timestamp())
}

func (s *Store) get(ctx context.Context, op string, key []byte, now time.Time) (event.Event, error) {
	var e event.Event
	err := s.view(ctx, op, func(tx *bbolt.Tx) error {
		rec := tx.Bucket(bucketEvents).Get(key)
		if rec == nil {
			return event.NotFound("event", idString(key))
		}
		var err error
		e, err = decodeEvent(key, rec)
		if err != nil {
			return err
		}
		if e.Expired(now) {
			return event.NotFound("event", e.ID)
		}
		return nil
	})
	return e, err
}

// maxSkipped bounds how many index entries one ListPending call may pass
// over without returning them (expired events the sweeper has not removed
// yet). Past it, the page is cut short with a cursor, so a call's cost stays
// O(limit + maxSkipped) whatever the backlog.
const maxSkipped = 1000

// ListPending returns pending events newest first; see event.Store. It walks
// the pending index that matches the filters backwards from the cursor, so
// its cost is one seek plus the page, never the backlog.
func (s *Store) ListPending(ctx context.Context, q event.ListQuery) (event.Page, error) {
	limit := q.Limit
	if limit < 1 || limit > event.MaxListLimit {
		limit = event.MaxListLimit
	}
	var after []byte
	if q.Cursor != "" {
		var err error
		if after, err = decodeCursor(q.Cursor); err != nil {
			return event.Page{}, err
		}
	}
	page := event.Page{Events: make([]event.Event, 0, limit)}
	// No stored type or source holds a control byte, so such a filter
	// matches nothing; answering early also keeps 0x00 out of index seeks.
	if hasControl(q.Type) || hasControl(q.Source) {
		return page, nil
	}
	now := s.timestamp()
	bucket, prefix := indexPrefix(q.Type, q.Source)
	err := s.view(ctx, "list pending", func(tx *bbolt.Tx) error {
		events := tx.Bucket(bucketEvents)
		c := tx.Bucket(bucket).Cursor()
		k := seekBefore(c, prefix, after)
		skipped := 0
		var last []byte
		for ; k != nil; k, _ = c.Prev() {
			if len(k) != len(prefix)+idLen || !bytes.HasPrefix(k, prefix) {
				break
			}
			id := k[len(prefix):]
			if len(page.Events) == limit {
				// There is at least one more entry: hand out a cursor.
				page.Next = encodeCursor(last)
				return nil
			}
			if skipped == maxSkipped {
				page.Next = encodeCursor(last)
				return nil
			}
			last = id
			rec := events.Get(id)
			if rec == nil {
				return fmt.Errorf("%w: pending index %s points to missing event %x", errCorrupt, bucket, id)
			}
			e, err := decodeEvent(id, rec)
			if err != nil {
				return err
			}
			if e.Expired(now) || e.Status != event.StatusPending {
				skipped++
				continue
			}
			page.Events = append(page.Events, e)
		}
		return nil
	})
	if err != nil {
		return event.Page{}, err
	}
	return page, nil
}

// seekBefore positions c on the last key with prefix that sorts before
// prefix+after (or the last key with prefix when after is nil) and returns
// it; the caller checks the prefix.
func seekBefore(c *bbolt.Cursor, prefix, after []byte) []byte {
	var bound []byte
	switch {
	case after != nil:
		bound = indexKey(prefix, after)
	case len(prefix) > 0:
		// Keys are prefix + 16 id bytes, and prefix ends in 0x00, so
		// prefix with its last byte raised to 0x01 is above all of them.
		bound = bytes.Clone(prefix)
		bound[len(bound)-1] = sep + 1
	default:
		k, _ := c.Last()
		return k
	}
	k, _ := c.Seek(bound)
	if k == nil {
		k, _ = c.Last()
		return k
	}
	k, _ = c.Prev()
	return k
}

package dynamostore

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/triggershq/triggers/pkg/event"
)

// maxListRounds bounds the rounds of parallel queries one ListPending makes.
// The first round reads every shard; later rounds read only the shards that
// ran dry while they could still hold newer events than the merge's next
// candidate. Most polls need one round; when the budget is spent, the page is
// returned short with a cursor, as the Store contract allows.
const maxListRounds = 4

// ListPending implements event.Store: one Query per shard of the pending
// index (gsi1, or gsi2 for a type filter), in parallel, newest first, merged
// by id. See docs/dynamodb.md for the merge, the cursor and the costs.
func (s *Store) ListPending(ctx context.Context, q event.ListQuery) (event.Page, error) {
	if err := s.check(); err != nil {
		return event.Page{}, err
	}
	if q.Limit < 1 || q.Limit > event.MaxListLimit {
		q.Limit = event.MaxListLimit
	}
	fp := queryFingerprint(q)
	positions, err := decodeCursor(q.Cursor, fp, s.shards)
	if err != nil {
		return event.Page{}, err
	}
	// A type or source no event can have matches nothing; answering that
	// here also keeps unbounded strings out of index keys and requests.
	if (q.Type != "" && event.ValidateName("type", q.Type, event.MaxTypeLen) != nil) ||
		(q.Source != "" && event.ValidateName("source", q.Source, event.MaxSourceLen) != nil) {
		return event.Page{Events: []event.Event{}}, nil
	}
	m := s.newMerge(q, positions)
	if err := m.run(ctx); err != nil {
		return event.Page{}, fmt.Errorf("list pending: %w", err)
	}
	page := event.Page{Events: m.out}
	if next, more := m.positions(); more {
		page.Next = encodeCursor(fp, next)
	}
	return page, nil
}

// shardReader is one shard's side of the merge.
type shardReader struct {
	pk   string        // the shard's partition key value in the index
	pos  position      // where the next query starts
	more bool          // items may remain beyond buf
	lek  string        // where the last query stopped, when more
	buf  []event.Event // read, not yet consumed, newest first
}

type merge struct {
	s        *Store
	q        event.ListQuery
	index    string // index name
	idxPK    string // its key attributes
	idxSK    string
	readers  []*shardReader
	out      []event.Event
	first    int // query Limit of the first round
	filtered bool
}

func (s *Store) newMerge(q event.ListQuery, positions []position) *merge {
	m := &merge{s: s, q: q, index: indexPending, idxPK: attrGSI1PK, idxSK: attrGSI1SK,
		out: []event.Event{}, filtered: q.Source != ""}
	if q.Type != "" {
		m.index, m.idxPK, m.idxSK = indexPendingByType, attrGSI2PK, attrGSI2SK
	}
	for i, p := range positions {
		r := &shardReader{pk: pendingPK(i), pos: p, more: !p.exhausted}
		if q.Type != "" {
			r.pk = pTypePK(q.Type, i)
		}
		m.readers = append(m.readers, r)
	}
	m.first = firstRoundLimit(q.Limit, len(positions))
	return m
}

// firstRoundLimit is how many items the first round reads per shard: the
// shard's expected share of the page plus two standard deviations of it
// (ids are spread uniformly, so a shard's share is binomial). With 100 and 8
// shards that is 20 items per shard, 160 read for 100 returned; when a shard
// holds more than 20 of the newest 100 (about one poll in 11) that shard
// alone is read again. Reading the whole limit from every shard would read
// 800.
func firstRoundLimit(limit, shards int) int {
	share := float64(limit) / float64(shards)
	n := int(math.Ceil(share + 2*math.Sqrt(share)))
	return min(max(n, 1), limit)
}

func (m *merge) run(ctx context.Context) error {
	for round := 0; ; round++ {
		need := m.advance()
		if len(m.out) == m.q.Limit || len(need) == 0 || round == maxListRounds {
			return nil
		}
		size := m.q.Limit
		if !m.filtered {
			// Later rounds read what the page still needs, so a shard that
			// holds all of it is done in one more round.
			size = m.first
			if round > 0 {
				size = max(m.first, m.q.Limit-len(m.out))
			}
		}
		if err := m.fetch(ctx, need, size); err != nil {
			return err
		}
	}
}

// advance moves events into out, newest first, for as long as it is safe:
// the next candidate may be emitted only if no shard that ran dry could
// still hold something newer. It returns the shards that must be read
// before the merge can go on (none when the page is full or all is read).
func (m *merge) advance() []*shardReader {
	now := m.s.now()
	for len(m.out) < m.q.Limit {
		var cand *shardReader
		for _, r := range m.readers {
			if len(r.buf) > 0 && (cand == nil || r.buf[0].ID > cand.buf[0].ID) {
				cand = r
			}
		}
		var need []*shardReader
		for _, r := range m.readers {
			// A dry shard's unread items are all older than (or at, for an
			// inclusive position) r.pos.id; ids are unique across shards.
			if len(r.buf) == 0 && r.more && (r.pos.id == "" || cand == nil || r.pos.id > cand.buf[0].ID) {
				need = append(need, r)
			}
		}
		if len(need) > 0 || cand == nil {
			return need
		}
		e := cand.buf[0]
		cand.buf = cand.buf[1:]
		cand.pos = position{id: e.ID}
		if len(cand.buf) == 0 && cand.more {
			cand.pos = position{id: cand.lek}
		}
		// The index holds expired items until TTL deletes them (days
		// later): consume them, but do not return them.
		if e.Status == event.StatusPending && !e.Expired(now) {
			m.out = append(m.out, e)
		}
	}
	return nil
}

// positions is the cursor state after advance, and whether anything remains.
//
// A shard with events read but not consumed resumes at its first unconsumed
// event, inclusive, rather than after its last consumed one (or from the
// top, if none was): its next query must not see events stored after this
// page was read, which are newer than everything the walk has returned and
// belong to a fresh listing, not to the middle of this one.
func (m *merge) positions() ([]position, bool) {
	ps := make([]position, len(m.readers))
	more := false
	for i, r := range m.readers {
		switch {
		case len(r.buf) > 0:
			ps[i] = position{id: r.buf[0].ID, inclusive: true}
		case r.more:
			ps[i] = r.pos
		default:
			ps[i] = position{exhausted: true}
			continue
		}
		more = true
	}
	return ps, more
}

// fetch queries the given shards in parallel, size items each.
func (m *merge) fetch(ctx context.Context, readers []*shardReader, size int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(readers))
	var wg sync.WaitGroup
	for i, r := range readers {
		wg.Go(func() {
			if errs[i] = m.query(ctx, r, size); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (m *merge) query(ctx context.Context, r *shardReader, size int) error {
	in := &dynamodb.QueryInput{
		TableName:                 m.s.table,
		IndexName:                 aws.String(m.index),
		KeyConditionExpression:    aws.String("#ipk = :ipk"),
		ExpressionAttributeNames:  map[string]string{"#ipk": m.idxPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ipk": str(r.pk)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(size)),
		ReturnConsumedCapacity:    m.s.capacityMode(),
	}
	// The position is a key condition on the index sort key (the id), not
	// an ExclusiveStartKey: it can be inclusive, and the cursor never has
	// to carry or rebuild a table key.
	if r.pos.id != "" {
		op := "<"
		if r.pos.inclusive {
			op = "<="
		}
		*in.KeyConditionExpression += " AND #isk " + op + " :pos"
		in.ExpressionAttributeNames["#isk"] = m.idxSK
		in.ExpressionAttributeValues[":pos"] = str(r.pos.id)
	}
	if m.filtered {
		in.FilterExpression = aws.String("#source = :source")
		in.ExpressionAttributeNames["#source"] = attrSource
		in.ExpressionAttributeValues[":source"] = str(m.q.Source)
	}
	out, err := m.s.db.Query(ctx, in)
	if err != nil {
		return storeError("Query "+r.pk, err)
	}
	m.s.report("list", out.ConsumedCapacity)
	r.buf = make([]event.Event, 0, len(out.Items))
	for _, item := range out.Items {
		e, err := decodeEvent("list "+r.pk, item)
		if err != nil {
			return err
		}
		r.buf = append(r.buf, e)
	}
	r.more = len(out.LastEvaluatedKey) > 0
	r.lek = ""
	if r.more {
		r.lek = stringAttr(out.LastEvaluatedKey, m.idxSK)
		if r.lek == "" {
			return event.Internal("list "+r.pk, fmt.Errorf("last evaluated key without %s", m.idxSK))
		}
		if len(r.buf) == 0 {
			r.pos = position{id: r.lek}
		}
	}
	return nil
}

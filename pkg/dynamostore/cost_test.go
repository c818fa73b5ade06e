package dynamostore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/storetest"
)

// readLog records, for every Query, how many items came back and their size
// by DynamoDB's rule: read units are charged per query on that size.
type readLog struct {
	mu      sync.Mutex
	queries []int // bytes returned per query
	items   int
}

func (l *readLog) option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("read-log",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleInitialize(ctx, in)
					if q, ok := out.Result.(*dynamodb.QueryOutput); ok && err == nil {
						n := 0
						for _, item := range q.Items {
							n += dynamostore.ItemSize(item)
						}
						l.mu.Lock()
						l.queries = append(l.queries, n)
						l.items += len(q.Items)
						l.mu.Unlock()
					}
					return out, md, err
				}), middleware.After)
		})
	}
}

func (l *readLog) take() (queries []int, items int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	queries, items = l.queries, l.items
	l.queries, l.items = nil, 0
	return queries, items
}

// units rounds size up to whole units of unit bytes.
func units(size, unit int) int { return int(math.Ceil(float64(size) / float64(unit))) }

// TestLifecycleCost measures the requests one event's lifecycle makes
// (ingest, its share of one 100-event inbox poll over a deep backlog, ack)
// and computes the capacity units DynamoDB would charge for them from its
// published rules, using the exact item sizes. moto answers
// ReturnConsumedCapacity with a constant (1 per request), so its figures
// are printed only to show they are not usable. The table in
// docs/dynamodb.md comes from this test's log (go test -v -run
// TestLifecycleCost).
func TestLifecycleCost(t *testing.T) {
	t.Parallel()
	const backlog, poll = 400, 100
	var report strings.Builder
	fmt.Fprintf(&report, "\n%s, %s/%s, %d CPUs, Go %s, moto_server; %d pending, %d shards, one poll of %d\n",
		time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(),
		backlog, dynamostore.DefaultPendingShards, poll)
	fmt.Fprintln(&report, "| payload | item bytes | PutItem | WCU ingest (table+gsi1+gsi2) | +idem WCU (bytes) | Query/poll | items read/poll | RCU/poll | RCU/event | UpdateItem | WCU ack (table+gsi1+gsi2) | WCU+RCU per lifecycle | moto reported |")
	fmt.Fprintln(&report, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, payloadBytes := range []int{200, 1024, 4096} {
		counter := newRequestCounter()
		reads := &readLog{}
		var mu sync.Mutex
		reported := 0.0
		c := storetest.NewClock(start)
		s := newStore(t, dynamostore.Options{Now: c.Now, Capacity: func(_ string, cc *types.ConsumedCapacity) {
			mu.Lock()
			defer mu.Unlock()
			if cc.CapacityUnits != nil {
				reported += *cc.CapacityUnits
			}
		}}, counter.option(), reads.option())
		ctx := context.Background()
		var ids event.IDs
		payload := json.RawMessage(`{"data":"` + strings.Repeat("x", payloadBytes-11) + `"}`)
		events := make([]event.Event, backlog)
		for i := range events {
			c.Advance(time.Millisecond)
			events[i] = build(t, &ids, c.Now(), event.NewEvent{Type: "order.created", Source: "shop", Payload: payload})
			if _, _, err := s.Put(ctx, events[i]); err != nil {
				t.Fatal(err)
			}
		}
		puts := counter.take()["PutItem"]
		reads.take()

		p, err := s.ListPending(ctx, event.ListQuery{Limit: poll})
		if err != nil || len(p.Events) != poll {
			t.Fatalf("poll: %d events, %v", len(p.Events), err)
		}
		queries := counter.take()["Query"]
		perQuery, itemsRead := reads.take()
		rcu := 0.0
		for _, bytes := range perQuery {
			rcu += 0.5 * float64(units(bytes, 4096)) // eventually consistent: half a unit per 4 KB, per query
		}

		for _, e := range p.Events {
			if _, ok, err := s.Ack(ctx, e.ID); err != nil || !ok {
				t.Fatalf("ack: %v %v", ok, err)
			}
		}
		updates := counter.take()["UpdateItem"]

		size, _ := dynamostore.StoredSizes(events[0], dynamostore.DefaultPendingShards)
		keyed := events[0]
		keyed.IdempotencyKey = strings.Repeat("k", 36) // a UUID-sized key
		_, idemSize := dynamostore.StoredSizes(keyed, dynamostore.DefaultPendingShards)
		ingestWCU := 3 * units(size, 1024) // the item, and its copy in each index (projection ALL)
		ackWCU := 3 * units(size, 1024)    // the update, and one delete from each index
		perEvent := float64(ingestWCU+ackWCU) + rcu/poll
		mu.Lock()
		moto := reported
		mu.Unlock()
		fmt.Fprintf(&report, "| %d B | %d | %.2f | %d | %d (%d) | %d | %d | %.1f | %.3f | %.2f | %d | %.2f | %.0f units for %d requests |\n",
			payloadBytes, size, float64(puts)/backlog, ingestWCU, units(idemSize, 1024), idemSize, queries, itemsRead, rcu, rcu/poll,
			float64(updates)/poll, ackWCU, perEvent, moto, puts+queries+updates)
	}
	t.Log(report.String())
}

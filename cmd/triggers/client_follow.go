package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/triggershq/triggers/pkg/client"
)

// follower finds the events that appear in the inbox after it started, by
// polling it newest first. tail and listen share it.
//
// At start it notes the newest pending event (the mark); later polls walk
// the inbox from the top and stop at the first event that is seen or not
// newer than the mark, so a poll costs one page when nothing happened,
// whatever the backlog. Seen ids are remembered in a bounded set: events
// stay pending until acknowledged and must not be reported twice.
type follower struct {
	c        *client.Client
	q        client.InboxQuery
	mark     string // ids <= mark were pending before we started
	seen     *boundedSet
	maxPages int // per poll, so a flood cannot stall the output
}

// seenCapacity bounds the memory of reported ids. Only the newest ids can
// sit above the stopping point of a poll, so forgetting the oldest is safe.
const seenCapacity = 100_000

func newFollower(c *client.Client, typ, source string) *follower {
	return &follower{
		c:        c,
		q:        client.InboxQuery{Type: typ, Source: source, Limit: 100},
		seen:     newBoundedSet(seenCapacity),
		maxPages: 10,
	}
}

// start notes the mark: what is pending now is not new.
func (f *follower) start(ctx context.Context) error {
	q := f.q
	q.Limit = 1
	page, err := f.c.Inbox(ctx, q)
	if err != nil {
		return err
	}
	if len(page.Events) > 0 {
		f.mark = page.Events[0].ID
	}
	return nil
}

// poll returns the events that appeared since the last poll, oldest first.
func (f *follower) poll(ctx context.Context) ([]client.Event, error) {
	var fresh []client.Event
	q := f.q
	for range f.maxPages {
		page, err := f.c.Inbox(ctx, q)
		if err != nil {
			if len(fresh) > 0 {
				break // report what we have; the rest comes next poll
			}
			return nil, err
		}
		stop := false
		for _, ev := range page.Events {
			if ev.ID <= f.mark || f.seen.has(ev.ID) {
				stop = true
				break
			}
			fresh = append(fresh, ev)
		}
		if stop || page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	slices.Reverse(fresh)
	for _, ev := range fresh {
		f.seen.add(ev.ID)
	}
	return fresh, nil
}

// follow notes the mark, calls ready, then polls every interval until ctx
// ends, handing each new event to handle in order. Errors that will not
// pass (refused credentials, a bad filter) end it; others go to warn and
// the next poll tries again. Cancellation (Ctrl-C) is a clean stop: nil.
func (f *follower) follow(ctx context.Context, interval time.Duration, ready func(), warn func(error), handle func(client.Event) error) error {
	if err := f.start(ctx); err != nil {
		return stopped(ctx, err)
	}
	ready()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		events, err := f.poll(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if permanent(err) {
				return err
			}
			warn(err)
		}
		for _, ev := range events {
			if err := handle(ev); err != nil {
				return stopped(ctx, err)
			}
		}
		t.Reset(interval)
	}
}

// stopped turns an error caused by cancellation into a clean stop.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// permanent reports errors that polling again will not fix.
func permanent(err error) bool {
	return client.IsUnauthorized(err) || client.IsForbidden(err) || client.IsValidation(err)
}

// boundedSet remembers up to n strings, forgetting the oldest first.
type boundedSet struct {
	n     int
	items map[string]struct{}
	order []string // ring buffer of insertion order
	next  int
}

func newBoundedSet(n int) *boundedSet {
	return &boundedSet{n: n, items: make(map[string]struct{})}
}

func (s *boundedSet) has(k string) bool { _, ok := s.items[k]; return ok }

func (s *boundedSet) add(k string) {
	if s.has(k) {
		return
	}
	if len(s.order) < s.n {
		s.order = append(s.order, k)
	} else {
		delete(s.items, s.order[s.next])
		s.order[s.next] = k
		s.next = (s.next + 1) % s.n
	}
	s.items[k] = struct{}{}
}

// parseInterval checks a polling interval flag.
func parseInterval(d time.Duration) error {
	if d < 50*time.Millisecond || d > time.Hour {
		return usagef("--interval must be between 50ms and 1h, got %s", d)
	}
	return nil
}

const tailUsage = `Usage: triggers tail [--type T] [--source S] [--interval 2s] [--ack] [--json] [flags]

Follow the inbox: print each event that arrives after tail starts, oldest
first, as "CREATED_AT  ID  TYPE  SOURCE" (or a JSON line with --json), until
Ctrl-C (exit 0). Events stay pending unless --ack acknowledges each one
after printing it.

Examples:
  triggers tail --type order.created
  triggers tail --json | jq .payload
`

func runTail(ctx context.Context, args []string, e env) error {
	fs, api := newClientFlags("tail", tailUsage, e)
	typ := fs.String("type", "", "only events of this type")
	source := fs.String("source", "", "only events from this source")
	interval := fs.Duration("interval", 2*time.Second, "how often to poll the inbox")
	ack := fs.Bool("ack", false, "acknowledge each event after printing it")
	asJSON := fs.Bool("json", false, "print each event as a JSON line, payload included")
	positional, err := parseClientFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(positional) > 0 {
		return usagef("tail: unexpected argument %q", positional[0])
	}
	if err := parseInterval(*interval); err != nil {
		return err
	}
	c, err := api.client(e)
	if err != nil {
		return err
	}
	prog := newProgress(e)
	ready := func() { prog.note("Following new events at %s every %s (Ctrl-C to stop)", c.BaseURL(), *interval) }
	f := newFollower(c, *typ, *source)
	warn := func(err error) {
		fmt.Fprintf(e.stderr, "triggers: tail: %v (polling again in %s)\n", sdkError{err}, *interval)
	}
	err = f.follow(ctx, *interval, ready, warn, func(ev client.Event) error {
		var err error
		if *asJSON {
			err = jsonLine(e.stdout, ev)
		} else {
			_, err = fmt.Fprintln(e.stdout, eventLine(ev))
		}
		if err != nil {
			return err // stdout is gone (a closed pipe): stop
		}
		if *ack {
			if _, err := c.Ack(ctx, ev.ID); err != nil && ctx.Err() == nil {
				fmt.Fprintf(e.stderr, "triggers: tail: ack %s: %v\n", ev.ID, sdkError{err})
			}
		}
		return nil
	})
	if err != nil {
		return apiError("tail", err)
	}
	return nil
}

// oneLine flattens an error message for the one-line forward log.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/triggershq/triggers/pkg/client"
)

const inboxUsage = `Usage: triggers inbox [--limit N] [--type T] [--source S] [--cursor C] [--all] [--json] [flags]

List pending events, newest first: one page of up to --limit events, or with
--all every page. The output is a table (ID, TYPE, SOURCE, CREATED_AT), or
with --json one event per line (JSON Lines; "jq -s ." makes an array).

Examples:
  triggers inbox --type order.created
  triggers inbox --all --json | jq -r .id | triggers ack -
`

func runInbox(ctx context.Context, args []string, e env) error {
	fs, api := newClientFlags("inbox", inboxUsage, e)
	limit := fs.Int("limit", 100, "events per page, 1 to 100")
	typ := fs.String("type", "", "only events of this type")
	source := fs.String("source", "", "only events from this source")
	cursor := fs.String("cursor", "", "start after this cursor (from a previous page)")
	all := fs.Bool("all", false, "fetch every page, not just the first")
	asJSON := fs.Bool("json", false, "print JSON Lines: one event per line, payload included")
	positional, err := parseClientFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(positional) > 0 {
		return usagef("inbox: unexpected argument %q", positional[0])
	}
	if *limit < 1 || *limit > 100 {
		return usagef("inbox: --limit must be from 1 to 100, got %d", *limit)
	}
	c, err := api.client(e)
	if err != nil {
		return err
	}
	q := client.InboxQuery{Limit: *limit, Type: *typ, Source: *source, Cursor: *cursor}
	out := newEventWriter(e.stdout, *asJSON)
	prog := newProgress(e)

	if !*all {
		page, err := c.Inbox(ctx, q)
		if err != nil {
			return apiError("inbox", err)
		}
		if err := out.write(page.Events); err != nil {
			return err
		}
		if err := out.flush(); err != nil {
			return err
		}
		if page.NextCursor != "" {
			prog.note("more events: triggers inbox --cursor %s (or --all)", page.NextCursor)
		}
		return nil
	}
	n, pages := 0, 0
	for page, err := range c.InboxPages(ctx, q) {
		if err != nil {
			prog.done()
			return apiError(fmt.Sprintf("inbox (after %d events)", n), err)
		}
		if err := out.write(page.Events); err != nil {
			return err
		}
		// Flush per page: output streams, and a large inbox is never held
		// in memory (table columns may shift between pages).
		if err := out.flush(); err != nil {
			return err
		}
		n += len(page.Events)
		pages++
		prog.status("%d events, %d pages…", n, pages)
	}
	prog.done()
	if err := out.flush(); err != nil { // the header of an empty inbox
		return err
	}
	if !*asJSON {
		prog.note("%d events", n)
	}
	return nil
}

// eventWriter prints events as a table or as JSON Lines.
type eventWriter struct {
	w      io.Writer
	json   bool
	tw     *tabwriter.Writer
	header bool
}

func newEventWriter(w io.Writer, asJSON bool) *eventWriter {
	return &eventWriter{w: w, json: asJSON, tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
}

func (o *eventWriter) write(events []client.Event) error {
	if o.json {
		for _, ev := range events {
			if err := jsonLine(o.w, ev); err != nil {
				return err
			}
		}
		return nil
	}
	if !o.header {
		fmt.Fprintln(o.tw, "ID\tTYPE\tSOURCE\tCREATED_AT")
		o.header = true
	}
	for _, ev := range events {
		fmt.Fprintf(o.tw, "%s\t%s\t%s\t%s\n", ev.ID, cell(ev.Type), cell(ev.Source), ev.CreatedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

func (o *eventWriter) flush() error {
	if o.json {
		return nil
	}
	if !o.header { // an empty first page still gets its header
		fmt.Fprintln(o.tw, "ID\tTYPE\tSOURCE\tCREATED_AT")
		o.header = true
	}
	return o.tw.Flush()
}

// cell keeps a table cell on one line: types and sources cannot hold
// control characters, but a tab or newline from a future server would
// break the columns.
func cell(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

const ackUsage = `Usage: triggers ack ID... [flags]
       triggers ack - [flags]        (ids from standard input, one per line)

Acknowledge events: each leaves the inbox and becomes delivered. Acking an
event again is harmless. Every id is tried; the command fails (exit 1) if any
failed, after naming each on stderr.

Examples:
  triggers ack 019ac9f1-5a00-7c3e-9d2a-4b1f0e8c7a61
  triggers inbox --all --json --type order.created | jq -r .id | triggers ack -
`

func runAck(ctx context.Context, args []string, e env) error {
	fs, api := newClientFlags("ack", ackUsage, e)
	asJSON := fs.Bool("json", false, "print each acknowledged event as a JSON line instead of its id")
	ids, err := parseClientFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(ids) == 1 && ids[0] == "-" {
		if ids, err = readIDs(e.stdin); err != nil {
			return err
		}
		if len(ids) == 0 {
			return usagef("ack: no ids on standard input")
		}
	}
	if len(ids) == 0 {
		return usagef("ack: give at least one event id (or - to read them from stdin)")
	}
	c, err := api.client(e)
	if err != nil {
		return err
	}
	prog := newProgress(e)
	var failed []string
	for i, id := range ids {
		ev, err := c.Ack(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				prog.done()
				return fmt.Errorf("ack: interrupted after %d of %d: %w", i, len(ids), ctx.Err())
			}
			prog.done()
			fmt.Fprintf(e.stderr, "triggers: ack %s: %v\n", id, sdkError{err})
			failed = append(failed, id)
			continue
		}
		if *asJSON {
			err = jsonLine(e.stdout, ev)
		} else {
			_, err = fmt.Fprintln(e.stdout, ev.ID)
		}
		if err != nil {
			return err
		}
		if len(ids) > 1 {
			prog.status("acked %d of %d…", i+1, len(ids))
		}
	}
	prog.done()
	if len(failed) > 0 {
		return fmt.Errorf("ack: %d of %d failed: %s", len(failed), len(ids), strings.Join(failed, " "))
	}
	return nil
}

// readIDs reads one id per line, skipping blank lines.
func readIDs(r io.Reader) ([]string, error) {
	if r == nil {
		return nil, usagef("ack: no standard input")
	}
	var ids []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); id != "" {
			ids = append(ids, id)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ack: reading stdin: %w", err)
	}
	return ids, nil
}

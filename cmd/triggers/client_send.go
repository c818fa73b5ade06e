package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/triggershq/triggers/pkg/client"
)

const sendUsage = `Usage: triggers send --type TYPE --source SOURCE [--data JSON | --file PATH | -] [flags]

Create an event and print its id. The payload (a JSON object) comes from
--data, from a file (--file PATH), or from standard input ("-" or --file -);
without any, it is {}. It is sent byte for byte.

The send is retried on network errors, 429 and 5xx with one Idempotency-Key,
so it stores the event once however often it is retried. Pass your own key
with --idempotency-key to make repeated runs of the same send store it once.

Examples:
  triggers send --type order.created --source shop --data '{"order_id":1042}'
  triggers send --type report.ready --source cron --file report.json
  jq -c '.order' big.json | triggers send --type order.created --source shop -
`

// maxPayloadInput bounds what send reads from a file or stdin; the server's
// default limit is 256 KiB, so this only stops a runaway pipe.
const maxPayloadInput = 16 << 20

func runSend(ctx context.Context, args []string, e env) error {
	fs, api := newClientFlags("send", sendUsage, e)
	typ := fs.String("type", "", "event type, e.g. order.created (required)")
	source := fs.String("source", "", "the system the event comes from (required)")
	data := fs.String("data", "", "the payload, a JSON object")
	file := fs.String("file", "", `read the payload from this file ("-" for stdin)`)
	key := fs.String("idempotency-key", "", "Idempotency-Key to send (default: a random one per run)")
	asJSON := fs.Bool("json", false, `print {"id","status","timestamp","replayed","idempotency_key"} instead of the id`)
	positional, err := parseClientFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	switch {
	case *typ == "":
		return usagef("send: --type is required")
	case *source == "":
		return usagef("send: --source is required")
	}
	stdin := false
	switch len(positional) {
	case 0:
	case 1:
		if positional[0] != "-" {
			return usagef(`send: unexpected argument %q (the payload goes in --data, --file or "-" for stdin)`, positional[0])
		}
		stdin = true
	default:
		return usagef("send: too many arguments %q", positional)
	}
	sources := 0
	for _, set := range []bool{*data != "", *file != "", stdin} {
		if set {
			sources++
		}
	}
	if sources > 1 {
		return usagef("send: give the payload one way: --data, --file or -")
	}
	payload, err := readPayload(e, *data, *file, stdin)
	if err != nil {
		return err
	}
	c, err := api.client(e)
	if err != nil {
		return err
	}
	var opts []client.SendOption
	if *key != "" {
		opts = append(opts, client.WithIdempotencyKey(*key))
	}
	created, err := c.Send(ctx, client.Event{Type: *typ, Source: *source, Payload: payload}, opts...)
	if err != nil {
		var se *client.SendError
		if mayHaveStored(err) && errors.As(err, &se) && *key == "" {
			fmt.Fprintf(e.stderr, "triggers: send: the event may or may not be stored; repeat with --idempotency-key %s to store it at most once\n", se.IdempotencyKey)
		}
		return apiError("send", err)
	}
	if *asJSON {
		return jsonLine(e.stdout, created)
	}
	_, err = fmt.Fprintln(e.stdout, created.ID)
	return err
}

// mayHaveStored reports whether a failed send could have reached the store:
// anything but an answer that refused the request.
func mayHaveStored(err error) bool {
	var ae *client.Error
	if !errors.As(err, &ae) {
		return true // the network failed, or the command was interrupted
	}
	return ae.StatusCode >= 500
}

// readPayload returns the payload from whichever source was given, checked
// to be JSON; not JSON is a usage error (the command line pointed at it).
func readPayload(e env, data, file string, stdin bool) (json.RawMessage, error) {
	var raw []byte
	switch {
	case data != "":
		raw = []byte(data)
	case file == "-" || stdin:
		b, err := readLimited(e.stdin, "stdin")
		if err != nil {
			return nil, err
		}
		raw = b
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return nil, usagef("send: --file: %v", err)
		}
		defer f.Close()
		b, err := readLimited(f, file)
		if err != nil {
			return nil, err
		}
		raw = b
	default:
		return json.RawMessage("{}"), nil
	}
	if !json.Valid(raw) {
		return nil, usagef("send: the payload is not valid JSON")
	}
	return trimJSONSpace(raw), nil
}

func readLimited(r io.Reader, name string) ([]byte, error) {
	if r == nil {
		return nil, usagef("send: no standard input")
	}
	b, err := io.ReadAll(io.LimitReader(r, maxPayloadInput+1))
	if err != nil {
		return nil, fmt.Errorf("send: reading %s: %w", name, err)
	}
	if len(b) > maxPayloadInput {
		return nil, usagef("send: %s is larger than %d bytes", name, maxPayloadInput)
	}
	return b, nil
}

// trimJSONSpace drops the whitespace around a JSON document (a file's final
// newline), which is not part of the payload.
func trimJSONSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

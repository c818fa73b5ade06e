package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/triggershq/triggers/pkg/client"
)

// The client commands (send, inbox, ack, tail, listen) talk to a running
// deployment through pkg/client, with the URL and API key from flags or
// the environment.

const (
	envURL        = "TRIGGERS_URL"
	envAPIKey     = "TRIGGERS_API_KEY"
	defaultAPIURL = "http://127.0.0.1:8080"
)

// clientFooter ends every client command's help.
const clientFooter = `
Connection (every client command):
  --url URL        the deployment (default $TRIGGERS_URL, else http://127.0.0.1:8080)
  --api-key KEY    the API key (default $TRIGGERS_API_KEY; prefer the variable:
                   flags show up in the process list)

Exit codes: 0 success; 1 the API or the network failed (the message says which
request and why); 2 the command line was wrong.
`

// apiFlags are the connection flags every client command takes.
type apiFlags struct {
	url, apiKey string
}

// newClientFlags returns a flag set for a client command with the
// connection flags, printing usage (and the flags) on -h.
func newClientFlags(name, usage string, e env) (*flag.FlagSet, *apiFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	a := &apiFlags{}
	defURL := e.getenv(envURL)
	if defURL == "" {
		defURL = defaultAPIURL
	}
	fs.StringVar(&a.url, "url", defURL, "deployment URL (env "+envURL+")")
	// No default shown: the key must not be printed by -h.
	fs.StringVar(&a.apiKey, "api-key", "", "API key (env "+envAPIKey+")")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, usage)
		fmt.Fprintln(e.stderr, "\nFlags:")
		fs.PrintDefaults()
		fmt.Fprint(e.stderr, clientFooter)
	}
	return fs, a
}

// parseClientFlags parses args; -h prints the usage and reports errHelp.
func parseClientFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" }) {
		fs.Usage()
		return nil, errHelp
	}
	return parseInterspersed(fs, args)
}

// errHelp ends a command that printed its help: exit 0.
var errHelp = errors.New("help requested")

// helpOK turns errHelp into success.
func helpOK(err error) error {
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

// client returns the SDK client for the flags and environment.
func (a *apiFlags) client(e env) (*client.Client, error) {
	key := a.apiKey
	if key == "" {
		key = e.getenv(envAPIKey)
	}
	if key == "" {
		return nil, usagef("no API key: set %s or pass --api-key", envAPIKey)
	}
	c, err := client.New(a.url, key, client.WithUserAgent("triggers-cli/"+version))
	if err != nil {
		return nil, usagef("--url: %v", strings.TrimPrefix(err.Error(), "triggers: "))
	}
	return c, nil
}

// isTerminal reports whether w is a terminal (a character device), where
// progress and hints may go without disturbing a script.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress writes transient status lines to stderr when it is a terminal,
// and nothing otherwise.
type progress struct {
	w  io.Writer
	on bool
	n  int // length of the status line on screen
}

func newProgress(e env) *progress { return &progress{w: e.stderr, on: isTerminal(e.stderr)} }

// status replaces the status line.
func (p *progress) status(format string, args ...any) {
	if !p.on {
		return
	}
	s := fmt.Sprintf(format, args...)
	pad := max(p.n-len(s), 0)
	fmt.Fprintf(p.w, "\r%s%s", s, strings.Repeat(" ", pad))
	p.n = len(s)
}

// done clears the status line.
func (p *progress) done() {
	if !p.on || p.n == 0 {
		return
	}
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.n))
	p.n = 0
}

// note prints a line for a person at a terminal.
func (p *progress) note(format string, args ...any) {
	if p.on {
		p.done()
		fmt.Fprintf(p.w, format+"\n", args...)
	}
}

// jsonLine writes v as one line of JSON, without HTML escaping so payload
// bytes come out as stored.
func jsonLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// apiError names the command's operation in an SDK error, without the
// SDK's own "triggers: " prefix (main adds one).
func apiError(op string, err error) error {
	return fmt.Errorf("%s: %w", op, sdkError{err})
}

// sdkError is an SDK error shown without its package prefix.
type sdkError struct{ err error }

func (e sdkError) Error() string { return strings.TrimPrefix(e.err.Error(), "triggers: ") }
func (e sdkError) Unwrap() error { return e.err }

// eventLine is the one-line text form of an event (tail, ack).
func eventLine(ev client.Event) string {
	return fmt.Sprintf("%s  %s  %s  %s", ev.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000Z07:00"), ev.ID, ev.Type, ev.Source)
}

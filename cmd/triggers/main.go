// Command triggers is the Triggers single binary: the HTTP API on the
// embedded store (`triggers serve`), API key management (`triggers keys`),
// and a command-line client for the API.
//
// main only calls run, so every command is testable in-process and returns
// its error instead of exiting from deep inside.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes a script can rely on.
const (
	exitOK    = 0
	exitError = 1 // the operation failed
	exitUsage = 2 // the command line was wrong
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// env is what a command may touch of the outside world; tests supply their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// usageError marks a command-line mistake (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "triggers:", err)
	var u usageError
	if errors.As(err, &u) {
		return exitUsage
	}
	return exitError
}

const usage = `Triggers — an event inbox for Zapier and other automation consumers.

Usage:
  triggers serve [flags]          serve the HTTP API (embedded store by default)
  triggers keys <command> [flags] manage API keys and signing keys: create, list, revoke, hash,
                                  rotate-signing-key, remove-signing-key
  triggers version                print the version

Client commands (--url / $TRIGGERS_URL, --api-key / $TRIGGERS_API_KEY):
  triggers send --type T --source S [--data JSON | --file PATH | -]   create an event
  triggers inbox [--type T] [--all] [--json]                          list pending events
  triggers ack ID... | -                                              acknowledge events
  triggers tail [--type T] [--ack] [--json]                           follow new events
  triggers listen --forward-to URL [--ack]                            forward new events to a local URL as signed webhooks

Exit codes: 0 success, 1 failure (API, network, I/O), 2 usage error.

Run "triggers <command> -h" for a command's flags.
`

func run(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return usagef("no command given")
	}
	switch args[0] {
	case "serve":
		return helpOK(runServe(ctx, args[1:], e))
	case "keys":
		return helpOK(runKeys(ctx, args[1:], e))
	case "send":
		return runSend(ctx, args[1:], e)
	case "inbox":
		return runInbox(ctx, args[1:], e)
	case "ack":
		return runAck(ctx, args[1:], e)
	case "tail":
		return runTail(ctx, args[1:], e)
	case "listen":
		return runListen(ctx, args[1:], e)
	case "version", "--version", "-version":
		fmt.Fprintln(e.stdout, version)
		return nil
	case "help", "-h", "--help", "-help":
		fmt.Fprint(e.stdout, usage)
		return nil
	}
	fmt.Fprint(e.stderr, usage)
	return usagef("unknown command %q", args[0])
}

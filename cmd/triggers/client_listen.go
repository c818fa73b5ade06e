package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/triggershq/triggers/pkg/client"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/webhook"
)

const listenUsage = `Usage: triggers listen --forward-to URL [--type T] [--source S] [--ack] [--secret whsec_…] [flags]

A development tool, like "stripe listen": receive this deployment's new
events (by polling the inbox, as tail does) and POST each to a local URL as a
Standard Webhook, exactly as a subscription would deliver it: the body
{"id","type","source","payload","created_at"}, signed in the webhook-id,
webhook-timestamp and webhook-signature headers with a secret made for this
session and printed at start (or the one --secret gives, to keep it across
runs). Verify it as you would a real delivery (client.VerifyWebhook in Go).

Each forward prints "--> TYPE ID [STATUS LATENCY]". A network error, 408,
429 or 5xx is retried up to 3 times; redirects are not followed. With --ack
an event is acknowledged after a 2xx, so it leaves the inbox. Any URL is
allowed, loopback included. Ctrl-C stops it (exit 0).

Examples:
  triggers listen --forward-to http://localhost:3000/webhooks/triggers
  triggers listen --forward-to http://localhost:3000/hook --type 'order.created' --ack
`

// Forwarding limits, close to what a real delivery allows.
const (
	forwardTimeout  = 10 * time.Second
	forwardAttempts = 3
	forwardBackoff  = 500 * time.Millisecond
	maxForwardRead  = 64 << 10
)

func runListen(ctx context.Context, args []string, e env) error {
	fs, api := newClientFlags("listen", listenUsage, e)
	target := fs.String("forward-to", "", "the local URL to POST events to (required)")
	typ := fs.String("type", "", "only events of this type")
	source := fs.String("source", "", "only events from this source")
	interval := fs.Duration("interval", 2*time.Second, "how often to poll the inbox")
	ack := fs.Bool("ack", false, "acknowledge each event after a 2xx from the target")
	secret := fs.String("secret", "", "sign with this whsec_ secret instead of a new one")
	positional, err := parseClientFlags(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(positional) > 0 {
		return usagef("listen: unexpected argument %q", positional[0])
	}
	if err := checkForwardURL(*target); err != nil {
		return err
	}
	if err := parseInterval(*interval); err != nil {
		return err
	}
	if *secret == "" {
		*secret = event.NewSecret()
	} else if _, err := webhook.Sign(*secret, "msg_check", time.Now(), nil); err != nil {
		return usagef("listen: --secret must be whsec_ followed by base64 of 24 to 64 bytes")
	}
	c, err := api.client(e)
	if err != nil {
		return err
	}
	fw := &forwarder{
		target:  *target,
		secret:  *secret,
		session: event.NewSecret(), // only its uniqueness matters: it salts the webhook ids
		hc: &http.Client{
			Timeout: forwardTimeout,
			// Like a real delivery: a redirect is an answer, not followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	f := newFollower(c, *typ, *source)
	warn := func(err error) {
		fmt.Fprintf(e.stderr, "triggers: listen: %v (polling again in %s)\n", sdkError{err}, *interval)
	}

	// The ready line is printed once the mark is set, so an event sent after
	// it is forwarded. It always goes to stderr: the secret is needed.
	ready := func() {
		fmt.Fprintf(e.stderr, "Ready! Forwarding new events of %s to %s\nWebhook signing secret: %s (Ctrl-C to stop)\n", c.BaseURL(), *target, *secret)
	}
	err = f.follow(ctx, *interval, ready, warn, func(ev client.Event) error {
		ok := fw.forward(ctx, ev, e.stdout)
		if ok && *ack {
			if _, err := c.Ack(ctx, ev.ID); err != nil && ctx.Err() == nil {
				fmt.Fprintf(e.stderr, "triggers: listen: ack %s: %v\n", ev.ID, sdkError{err})
			}
		}
		return nil
	})
	if err != nil {
		return apiError("listen", err)
	}
	return nil
}

// checkForwardURL accepts an absolute http(s) URL; loopback and private
// hosts are fine (it is a development tool).
func checkForwardURL(raw string) error {
	if raw == "" {
		return usagef("listen: --forward-to is required")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("listen: --forward-to must be an absolute http or https URL, got %q", raw)
	}
	return nil
}

// forwarder POSTs events to the local target as signed webhooks.
type forwarder struct {
	target, secret, session string
	hc                      *http.Client
}

// forward delivers one event, retrying transient failures, and prints one
// line per attempt. It reports whether the target answered 2xx.
func (fw *forwarder) forward(ctx context.Context, ev client.Event, out io.Writer) bool {
	raw, err := ev.RawPayload()
	if err != nil {
		fmt.Fprintf(out, "--> %s %s [ERR %v]\n", ev.Type, ev.ID, err)
		return false
	}
	body, err := webhook.Body(event.Event{ID: ev.ID, Type: ev.Type, Source: ev.Source, Payload: raw, CreatedAt: ev.CreatedAt})
	if err != nil {
		fmt.Fprintf(out, "--> %s %s [ERR %v]\n", ev.Type, ev.ID, err)
		return false
	}
	// The same webhook-id on every attempt, as real deliveries do.
	msgID := event.DeliveryID(ev.ID, fw.session)
	for attempt := 1; attempt <= forwardAttempts; attempt++ {
		status, latency, err := fw.post(ctx, msgID, body)
		if ctx.Err() != nil {
			return false
		}
		var result string
		switch {
		case err != nil:
			result = "ERR " + oneLine(err.Error())
		default:
			result = fmt.Sprintf("%d %dms", status, latency.Milliseconds()) // "0ms", never "0s"
		}
		retry := (err != nil || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500) && attempt < forwardAttempts
		suffix := ""
		if retry {
			suffix = " retrying"
		}
		fmt.Fprintf(out, "--> %s %s [%s]%s\n", ev.Type, ev.ID, result, suffix)
		if err == nil && status >= 200 && status < 300 {
			return true
		}
		if !retry {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(forwardBackoff * time.Duration(attempt)):
		}
	}
	return false
}

// post makes one signed attempt.
func (fw *forwarder) post(ctx context.Context, msgID string, body []byte) (int, time.Duration, error) {
	now := time.Now()
	sig, err := webhook.Sign(fw.secret, msgID, now, body)
	if err != nil {
		return 0, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fw.target, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "triggers-listen/"+version)
	req.Header.Set(webhook.HeaderID, msgID)
	req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(webhook.HeaderSignature, sig)
	resp, err := fw.hc.Do(req)
	latency := time.Since(now)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, latency, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxForwardRead))
	resp.Body.Close()
	return resp.StatusCode, latency, nil
}

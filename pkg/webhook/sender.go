package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

// Defaults of Options.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxResponseBytes = 64 << 10
	DefaultUserAgent        = "Triggers-Webhooks/1 (+https://github.com/triggershq/triggers)"
)

// Options configure a Sender. The zero value is the production setting.
type Options struct {
	// Timeout bounds one attempt from dialling to the end of the response
	// body (http.Client.Timeout). Zero means DefaultTimeout.
	Timeout time.Duration
	// MaxResponseBytes is how much of a response body is read (and thrown
	// away) so the connection can be reused; a longer body is cut off by
	// closing the connection. Zero means DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// UserAgent is sent with every request. Empty means DefaultUserAgent.
	UserAgent string
	// AllowPrivateNetworks turns the SSRF guard off: targets may then be
	// loopback, private, link-local or any other address. It is the
	// operator's opt-in for local development and tests; never set it on a
	// deployment that untrusted clients can subscribe to.
	AllowPrivateNetworks bool
	// Resolver resolves target host names, at subscribe time and when
	// dialling. Nil means net.DefaultResolver.
	Resolver Resolver
	// Now is the clock for webhook-timestamp, Result.At and HTTP-date
	// Retry-After values. Nil means time.Now.
	Now func() time.Time
}

// Sender makes delivery attempts. It is safe for concurrent use and keeps
// connections alive between attempts; Close releases idle ones.
type Sender struct {
	opts     Options
	resolver Resolver
	dialer   *net.Dialer
	client   *http.Client
}

// NewSender returns a Sender with the given options.
func NewSender(o Options) *Sender {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Sender{opts: o, resolver: o.Resolver}
	if s.resolver == nil {
		s.resolver = net.DefaultResolver
	}
	s.dialer = &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}
	if !o.AllowPrivateNetworks {
		s.dialer.Control = control
	}
	transport := &http.Transport{
		// No Proxy: a proxy would make the connection for us, to an
		// address our dialer never sees, and so bypass the guard.
		Proxy:             nil,
		DialContext:       s.dial,
		ForceAttemptHTTP2: true,
		// Most subscriptions of a Zapier user point at one host
		// (hooks.zapier.com), so keep enough connections to it.
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    32,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    o.Timeout,
		ResponseHeaderTimeout:  o.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true, // we never look at the body
	}
	s.client = &http.Client{
		Transport: transport,
		Timeout:   o.Timeout,
		// A redirect is an answer, not an instruction: following it would
		// let a public target send us to an internal one, and a webhook
		// receiver that moved must be subscribed again.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s
}

// Close closes idle connections. The Sender stays usable.
func (s *Sender) Close() { s.client.CloseIdleConnections() }

// Result is the outcome of one attempt.
type Result struct {
	At         time.Time     // when the attempt started (the webhook-timestamp), event.Timestamp form
	StatusCode int           // the receiver's status; 0 when there was no response
	Latency    time.Duration // from sending the request to the end of the (bounded) response
	Outcome    event.Outcome
	// Err says what went wrong, safe to show to the subscriber (it becomes
	// Attempt.Error); "" on success.
	Err string
	// RetryAfter is the receiver's Retry-After advice on a retryable
	// answer, 0 if none; Policy.Next honours it within its cap.
	RetryAfter time.Duration
	// Cause is the underlying error, for logs only.
	Cause error
}

// Send makes one attempt to deliver e to target, signed with secret, with
// deliveryID as webhook-id. It never returns an error: everything that can
// go wrong is an Outcome (see event.Outcome for what each means), including
// a target or secret that is malformed (OutcomeFailed) and a context that
// is cancelled (OutcomeRetry).
func (s *Sender) Send(ctx context.Context, target, secret, deliveryID string, e event.Event) Result {
	start := s.opts.Now()
	res := Result{At: event.Timestamp(start)}
	fail := func(msg string, cause error) Result {
		res.Outcome, res.Err, res.Cause = event.OutcomeFailed, msg, cause
		return res
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fail("target_url is not an http or https URL", err)
	}
	body, err := Body(e)
	if err != nil {
		return fail("the event could not be encoded", err)
	}
	sig, err := Sign(secret, deliveryID, start, body)
	if err != nil {
		return fail("the subscription's secret is invalid", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fail("target_url is not an http or https URL", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.opts.UserAgent)
	req.Header.Set(HeaderID, deliveryID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(start.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)

	t0 := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		res.Latency = time.Since(t0)
		res.Outcome, res.Err = s.describe(err)
		res.Cause = err
		return res
	}
	// Read a bounded amount so a small response leaves the connection
	// reusable, and close: a longer body is cut off, not read. A 101's
	// "body" is the switched connection itself, which http.Client.Timeout
	// no longer covers: reading it would wait for as long as the receiver
	// holds it open, so it is closed unread.
	if resp.StatusCode != http.StatusSwitchingProtocols {
		_, _ = io.CopyN(io.Discard, resp.Body, s.opts.MaxResponseBytes)
	}
	_ = resp.Body.Close()
	res.Latency = time.Since(t0)
	res.StatusCode = resp.StatusCode
	res.Outcome = classifyStatus(resp.StatusCode)
	switch res.Outcome {
	case event.OutcomeSuccess:
	case event.OutcomeGone:
		res.Err = "HTTP 410 Gone: the subscription is removed"
	case event.OutcomeRetry:
		res.Err = "HTTP " + strconv.Itoa(resp.StatusCode)
		res.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), s.opts.Now())
	default:
		res.Err = "HTTP " + strconv.Itoa(resp.StatusCode)
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			res.Err += ": redirects are not followed"
		}
	}
	return res
}

// classifyStatus maps a response status to an outcome.
func classifyStatus(code int) event.Outcome {
	switch {
	case code >= 200 && code < 300:
		return event.OutcomeSuccess
	case code == http.StatusGone:
		return event.OutcomeGone
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		return event.OutcomeRetry
	default:
		return event.OutcomeFailed
	}
}

// describe classifies a failed request and says what happened in words that
// name no internal address: a refused target is not retried, anything else
// on the network is.
func (s *Sender) describe(err error) (event.Outcome, string) {
	if _, ok := errors.AsType[*blockedError](err); ok {
		return event.OutcomeFailed, "the target's address is not a public internet address"
	}
	var (
		dnsErr  *net.DNSError
		netErr  net.Error
		unknown x509.UnknownAuthorityError
		badHost x509.HostnameError
		invalid x509.CertificateInvalidError
		verify  *tls.CertificateVerificationError
		record  tls.RecordHeaderError
	)
	msg := "network error"
	switch {
	case errors.Is(err, context.Canceled):
		msg = "cancelled before the receiver answered"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		msg = fmt.Sprintf("timed out after %s", s.opts.Timeout)
	case errors.As(err, &dnsErr):
		msg = "the target's host name could not be resolved"
	case errors.Is(err, syscall.ECONNREFUSED):
		msg = "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		msg = "connection reset by the receiver"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		msg = "connection closed before a response"
	case errors.As(err, &unknown), errors.As(err, &badHost), errors.As(err, &invalid), errors.As(err, &verify):
		msg = "the receiver's TLS certificate is not valid"
	case errors.As(err, &record):
		msg = "TLS handshake failed (is the target plain HTTP?)"
	}
	return event.OutcomeRetry, msg
}

// parseRetryAfter reads a Retry-After value, delay-seconds or an HTTP-date,
// as a wait from now; 0 for none, a malformed value or a time in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		// Cap before multiplying so a huge value cannot overflow; the
		// Policy caps it much lower anyway.
		return time.Duration(min(n, int64(365*24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

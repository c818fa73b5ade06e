package client

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"
)

// RetryPolicy bounds how hard one call tries. Zero fields take the
// defaults of DefaultRetryPolicy.
type RetryPolicy struct {
	// MaxAttempts is the most requests one call makes, the first included
	// (1 disables retries). The one extra request after a 401 that
	// refreshes the token is not counted.
	MaxAttempts int
	// MaxElapsed bounds the time from a call's first request until the
	// start of its last one; a wait that would end past it is not taken.
	MaxElapsed time.Duration
	// BaseDelay and MaxDelay shape the exponential backoff: before retry n
	// (n = 1, 2, ...) the client waits a uniformly random time in
	// [0, min(MaxDelay, BaseDelay·2^(n-1))] ("full jitter").
	BaseDelay, MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for
	// in-process. A server asking for more makes the call fail at once with
	// an *Error whose RetryAfter says when to come back, rather than block
	// the caller for minutes.
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy is what a Client uses unless WithRetry says otherwise.
var DefaultRetryPolicy = RetryPolicy{
	MaxAttempts:   5,
	MaxElapsed:    60 * time.Second,
	BaseDelay:     250 * time.Millisecond,
	MaxDelay:      10 * time.Second,
	MaxRetryAfter: 30 * time.Second,
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy
	if p.MaxAttempts > 0 {
		d.MaxAttempts = p.MaxAttempts
	}
	if p.MaxElapsed > 0 {
		d.MaxElapsed = p.MaxElapsed
	}
	if p.BaseDelay > 0 {
		d.BaseDelay = p.BaseDelay
	}
	if p.MaxDelay > 0 {
		d.MaxDelay = p.MaxDelay
	}
	if p.MaxRetryAfter > 0 {
		d.MaxRetryAfter = p.MaxRetryAfter
	}
	return d
}

// Option configures a Client.
type Option func(*config)

type config struct {
	httpClient *http.Client
	userAgent  string
	retry      RetryPolicy
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	rnd        *rand.Rand
	logger     *slog.Logger
}

// DefaultTimeout bounds one request (connect to last body byte) of the
// http.Client a Client makes for itself.
const DefaultTimeout = 30 * time.Second

// WithHTTPClient makes the Client send through hc (its Transport, Timeout,
// proxies, TLS settings). The Client never changes hc. Nil is ignored.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) {
		if hc != nil {
			c.httpClient = hc
		}
	}
}

// WithUserAgent sets the User-Agent header, e.g. "my-app/1.2".
func WithUserAgent(ua string) Option { return func(c *config) { c.userAgent = ua } }

// WithRetry sets the retry budget; see RetryPolicy.
func WithRetry(p RetryPolicy) Option { return func(c *config) { c.retry = p } }

// WithClock sets the clock the client reads token expiry, Retry-After dates
// and the retry budget from. Nil means time.Now. For tests.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithSleep sets how the client waits between attempts; it must return
// ctx.Err() if ctx ends first. Nil means a timer. For tests, which can
// record the waits instead of taking them.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *config) { c.sleep = sleep }
}

// WithRand sets the source of backoff jitter. The Client serialises its
// use, so r need not be safe for concurrent use. Nil means a random seed.
func WithRand(r *rand.Rand) Option { return func(c *config) { c.rnd = r } }

// WithLogger makes the client log its retries and token refreshes at debug
// level (warn when a call gives up). It never logs the API key, tokens,
// headers or bodies. Nil means no logging.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// SendOption configures one Send.
type SendOption func(*sendConfig)

type sendConfig struct {
	idempotencyKey string
}

// WithIdempotencyKey makes Send use key (1 to 255 printable ASCII
// characters) instead of a fresh random one. Use it to make a send
// idempotent across processes, e.g. with your own order id: the server
// stores one event per key and answers repeats with the original.
func WithIdempotencyKey(key string) SendOption {
	return func(s *sendConfig) { s.idempotencyKey = key }
}

func sleepTimer(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

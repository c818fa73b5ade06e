package client

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultUserAgent is the User-Agent a Client sends unless WithUserAgent
// says otherwise.
const DefaultUserAgent = "triggers-go/1 (+https://github.com/triggershq/triggers)"

// Client calls one Triggers deployment with one API key. It is safe for
// concurrent use; make one per deployment and key and share it, so its
// callers share one token and one connection pool.
type Client struct {
	base   *url.URL
	apiKey string // never logged, never in an error
	hc     *http.Client
	ua     string
	retry  RetryPolicy
	now    func() time.Time
	sleep  sleepFunc
	log    *slog.Logger

	rndMu sync.Mutex
	rnd   *rand.Rand

	tokens tokenSource
}

// New returns a Client for the deployment at baseURL (e.g.
// "https://abc123.execute-api.us-east-1.amazonaws.com" or
// "http://127.0.0.1:8080"; a path prefix such as an API Gateway stage is
// kept) that authenticates with apiKey. It does no I/O: the first call
// fetches a token.
//
// It fails if baseURL is not an absolute http(s) URL, if it carries user
// info or a query (put credentials in apiKey), or if apiKey is empty.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, errors.New("triggers: base URL is not a valid URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return nil, fmt.Errorf("triggers: base URL must be an absolute http or https URL, got %q", u.Redacted())
	case u.User != nil:
		return nil, errors.New("triggers: base URL must not contain user info; pass the API key as apiKey")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("triggers: base URL must not have a query or fragment, got %q", u.Redacted())
	case apiKey == "":
		return nil, errors.New("triggers: an API key is required")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""

	cfg := config{}
	for _, o := range opts {
		o(&cfg)
	}
	c := &Client{
		base:   u,
		apiKey: apiKey,
		hc:     cfg.httpClient,
		ua:     cfg.userAgent,
		retry:  cfg.retry.withDefaults(),
		now:    cfg.now,
		sleep:  cfg.sleep,
		log:    cfg.logger,
		rnd:    cfg.rnd,
	}
	if c.hc == nil {
		// Its own pool, sized for a Client shared by many goroutines (the
		// default keeps 2 idle connections per host and churns the rest).
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 32
		c.hc = &http.Client{Timeout: DefaultTimeout, Transport: tr}
	}
	if c.ua == "" {
		c.ua = DefaultUserAgent
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepTimer
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.rnd == nil {
		c.rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	c.tokens.c = c
	return c, nil
}

// BaseURL returns the deployment's URL as given to New, without a trailing
// slash.
func (c *Client) BaseURL() string { return c.base.String() }

// CloseIdleConnections closes the idle connections of the client's
// transport, for a program that is done with the deployment.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// String describes the client without its API key.
func (c *Client) String() string { return "triggers.Client(" + c.base.String() + ")" }

// url returns the absolute URL of an API path (which starts with "/").
func (c *Client) url(path string, query url.Values) string {
	u := *c.base
	u.Path += path
	if strings.Contains(path, "%") {
		u.RawPath = c.base.EscapedPath() + path
		u.Path, _ = url.PathUnescape(u.RawPath)
	}
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	return u.String()
}

// jitter returns a uniformly random duration in [0, max].
func (c *Client) jitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	c.rndMu.Lock()
	defer c.rndMu.Unlock()
	return time.Duration(c.rnd.Int64N(int64(max) + 1))
}

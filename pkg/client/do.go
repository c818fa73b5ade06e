package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

type sleepFunc func(context.Context, time.Duration) error

// maxResponseBytes bounds a response body: a full inbox page is 100 events
// of at most 256 KiB each, plus JSON framing.
const maxResponseBytes = 64 << 20

// request is one logical API call, which do may send several times.
type request struct {
	method, path string
	query        url.Values
	body         []byte
	contentType  string
	header       http.Header // extra headers (Idempotency-Key)
	// idempotent requests may be repeated after the server may have acted
	// on them (network errors mid-request, 500, 502, 504); the others are
	// repeated only when the server surely did not act (429, our own 503, a
	// connection that could not be made).
	idempotent bool
	// bearer requests carry the token and refresh it once on a 401.
	bearer bool
	// retriedNotFoundOK makes a 404 a success when an earlier attempt may
	// have acted: a DELETE whose first answer was lost.
	retriedNotFoundOK bool
}

// response is a 2xx answer, body read in full.
type response struct {
	status int
	header http.Header
	body   []byte
	// retried is true when the answer came from a second or later attempt:
	// an earlier one may have reached the server.
	retried bool
}

// tokenRefused reports whether an answer means "this token is no good":
// our own 401, or the 403 {"message":"Forbidden"} that API Gateway sends
// when the Lambda authorizer denies a token (a revoked key, a rotated-out
// signing key). Our own 403 — a missing scope — is problem+json and is
// final: a new token would carry the same scopes.
func tokenRefused(resp *response) bool {
	switch resp.status {
	case http.StatusUnauthorized:
		return true
	case http.StatusForbidden:
		ct := resp.header.Get("Content-Type")
		return !strings.HasPrefix(ct, "application/problem+json")
	}
	return false
}

// do sends req until it gets a 2xx, a final error, or the retry budget or
// ctx runs out. A non-2xx final answer is an *Error.
func (c *Client) do(ctx context.Context, req request) (*response, error) {
	start := c.now()
	refreshed := false
	mayHaveActed := false // an earlier attempt may have reached the handler
	for attempt := 1; ; attempt++ {
		token := ""
		if req.bearer {
			var err error
			if token, err = c.tokens.get(ctx); err != nil {
				return nil, err
			}
		}
		resp, err := c.attempt(ctx, req, token)
		if err == nil && tokenRefused(resp) && req.bearer && !refreshed {
			// The token expired early, or its signing key was rotated out:
			// get a fresh one and try once more, outside the budget.
			refreshed = true
			c.tokens.invalidate(token)
			c.log.DebugContext(ctx, "triggers: token refused; refreshing", "method", req.method, "path", req.path)
			attempt--
			continue
		}
		if err == nil && (resp.status >= 200 && resp.status < 300 ||
			resp.status == http.StatusNotFound && req.retriedNotFoundOK && mayHaveActed) {
			resp.retried = attempt > 1
			return resp, nil
		}

		var final error
		var retryAfter time.Duration
		retryable := false
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("triggers: %s %s: %w", req.method, req.path, ctx.Err())
			}
			retryable = req.idempotent || notSent(err)
			mayHaveActed = mayHaveActed || !notSent(err)
			final = fmt.Errorf("triggers: %s %s: %w", req.method, req.path, unwrapURLError(err))
		} else {
			retryAfter = parseRetryAfter(resp.header.Get("Retry-After"), c.now())
			apiErr := decodeError(req.method, req.path, resp.status, resp.header, resp.body, retryAfter)
			retryable = retryableStatus(apiErr, req.idempotent)
			mayHaveActed = mayHaveActed || resp.status >= 500 && !refusedByServer(apiErr)
			final = apiErr
		}
		if !retryable {
			return nil, final
		}
		if attempt >= c.retry.MaxAttempts {
			c.log.WarnContext(ctx, "triggers: giving up", "method", req.method, "path", req.path, "attempts", attempt, "error", final.Error())
			return nil, final
		}
		if retryAfter > c.retry.MaxRetryAfter {
			return nil, final // the *Error's RetryAfter tells the caller when
		}
		wait := retryAfter
		if wait == 0 {
			wait = c.backoff(attempt)
		}
		if c.now().Add(wait).Sub(start) > c.retry.MaxElapsed {
			c.log.WarnContext(ctx, "triggers: giving up", "method", req.method, "path", req.path, "attempts", attempt, "error", final.Error())
			return nil, final
		}
		c.log.DebugContext(ctx, "triggers: retrying", "method", req.method, "path", req.path,
			"attempt", attempt, "wait", wait, "error", final.Error())
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%w (stopped retrying: %w)", final, err)
		}
	}
}

// attempt sends req once. A non-nil error is a transport failure (no
// answer, or an answer whose body could not be read in full).
func (c *Client) attempt(ctx context.Context, req request, token string) (*response, error) {
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, c.url(req.path, req.query), body)
	if err != nil {
		return nil, err
	}
	for k, vs := range req.header {
		hr.Header[k] = vs
	}
	hr.Header.Set("User-Agent", c.ua)
	hr.Header.Set("Accept", "application/json, application/problem+json")
	if req.contentType != "" {
		hr.Header.Set("Content-Type", req.contentType)
	}
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.hc.Do(hr)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the %d response: %w", res.StatusCode, err)
	}
	if len(b) > maxResponseBytes {
		return nil, fmt.Errorf("the %d response exceeds %d bytes", res.StatusCode, maxResponseBytes)
	}
	return &response{status: res.StatusCode, header: res.Header, body: b}, nil
}

// retryableStatus says which answers are worth repeating. 429 says the
// server did not act, and so does our own 503 (a problem whose code is
// unavailable); 500, 502, 504, 408 and a gateway's 503 (API Gateway answers
// 503 when it lost the backend's answer) may come after it did, so only
// idempotent requests repeat them.
func retryableStatus(e *Error, idempotent bool) bool {
	switch e.StatusCode {
	case http.StatusTooManyRequests:
		return true
	case http.StatusServiceUnavailable:
		return idempotent || refusedByServer(e)
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout, http.StatusRequestTimeout:
		return idempotent
	}
	return false
}

// refusedByServer reports a 503 problem from the Triggers server itself,
// which it answers only before doing anything (a throttled or unreachable
// store or key store), as opposed to a gateway's bare 503.
func refusedByServer(e *Error) bool {
	return e.StatusCode == http.StatusServiceUnavailable && e.Type == "/problems/"+CodeUnavailable
}

// notSent reports whether a transport error happened before any byte of
// the request left: the connection could not be made.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// unwrapURLError drops *url.Error's "Post \"http://...\":" prefix; the
// caller names the method and path itself.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// backoff is the full-jitter wait before retry n (n >= 1).
func (c *Client) backoff(n int) time.Duration {
	ceiling := c.retry.MaxDelay
	if n < 32 {
		if d := c.retry.BaseDelay << (n - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	return c.jitter(ceiling)
}

// maxRetryAfterHeader keeps absurd Retry-After values from overflowing.
const maxRetryAfterHeader = 24 * time.Hour

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP-date
// (RFC 9110 §10.2.3). Malformed or past values are zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil {
		if secs > uint64(maxRetryAfterHeader/time.Second) {
			return maxRetryAfterHeader
		}
		return time.Duration(secs) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		return 0
	case d > maxRetryAfterHeader:
		return maxRetryAfterHeader
	}
	return d
}

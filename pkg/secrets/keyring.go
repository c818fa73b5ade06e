// Package secrets reads the Triggers credentials (JWT signing keys and API
// key hashes) from one AWS Secrets Manager secret and caches them in-process,
// so a rotation is picked up without a redeploy while the hot path costs no
// Secrets Manager call.
//
// The cache's rules, in the order a call meets them:
//
//   - Fresh (younger than TTL): served from memory.
//   - Stale: the first caller refreshes; callers arriving while that refresh
//     runs get the stale value instead of waiting. A version Secrets Manager
//     reports unchanged is not parsed again.
//   - A refresh that fails (Secrets Manager down, access denied, or a
//     document that does not parse or validate) keeps the last good value and
//     logs why; the stale value is served for at most Grace past its TTL,
//     then calls fail with event.CodeUnavailable. Failed refreshes are retried
//     no more than once per RetryInterval.
//   - Nothing loaded yet: callers wait for the one load in flight; if it
//     fails they get event.CodeUnavailable.
//
// Nothing secret is ever logged or put in an error: only the secret's id, its
// version id, and what is wrong with a rejected document.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/event"
)

// API is the part of the Secrets Manager client the keyring uses;
// *secretsmanager.Client implements it.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Defaults for Options.
const (
	DefaultTTL           = 5 * time.Minute
	DefaultGrace         = 30 * time.Minute
	DefaultRetryInterval = 5 * time.Second
	DefaultFetchTimeout  = 3 * time.Second
)

// Options tune a Keyring. The zero value is the production setting.
type Options struct {
	// TTL is how long loaded credentials are served without asking Secrets
	// Manager again: the longest a rotation or revocation waits to take
	// effect. Zero means DefaultTTL.
	TTL time.Duration
	// Grace is how long past TTL the last good credentials may still be
	// served while refreshes fail. Zero means DefaultGrace; negative means
	// none.
	Grace time.Duration
	// RetryInterval spaces out refresh attempts after a failure. Zero means
	// DefaultRetryInterval.
	RetryInterval time.Duration
	// FetchTimeout bounds one GetSecretValue call, retries included. Keep it
	// below the function's timeout (the authorizer's is 5 s), so a slow
	// Secrets Manager ends in a stale key set or a clean error rather than a
	// killed invocation. Zero means DefaultFetchTimeout.
	FetchTimeout time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives load and refresh failures. Nil discards them.
	Logger *slog.Logger
}

// Keyring is an auth.Keyring backed by a Secrets Manager secret whose
// SecretString is the credentials JSON document. It is safe for concurrent
// use. The *auth.Credentials it returns are shared and must not be modified.
type Keyring struct {
	client   API
	secretID string
	ttl      time.Duration
	grace    time.Duration
	retry    time.Duration
	timeout  time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu       sync.Mutex
	cur      *auth.Credentials
	version  string        // Secrets Manager VersionId of cur
	loadedAt time.Time     // when cur was last confirmed current
	nextTry  time.Time     // no refresh before this, after a failure
	lastErr  error         // why the last refresh failed
	inflight chan struct{} // non-nil while a fetch runs; closed when it ends
}

var _ auth.Keyring = (*Keyring)(nil)

// New returns a Keyring reading secretID (a name or ARN). It does not call
// Secrets Manager: the first Credentials call loads the secret.
func New(client API, secretID string, opts Options) (*Keyring, error) {
	if client == nil {
		return nil, errors.New("secrets: a Secrets Manager client is required")
	}
	if secretID == "" {
		return nil, errors.New("secrets: a secret id is required")
	}
	k := &Keyring{
		client: client, secretID: secretID,
		ttl: opts.TTL, grace: opts.Grace, retry: opts.RetryInterval, timeout: opts.FetchTimeout,
		now: opts.Now, log: opts.Logger,
	}
	if k.ttl <= 0 {
		k.ttl = DefaultTTL
	}
	switch {
	case k.grace == 0:
		k.grace = DefaultGrace
	case k.grace < 0:
		k.grace = 0
	}
	if k.retry <= 0 {
		k.retry = DefaultRetryInterval
	}
	if k.timeout <= 0 {
		k.timeout = DefaultFetchTimeout
	}
	if k.now == nil {
		k.now = time.Now
	}
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
	return k, nil
}

// Credentials returns the current credentials, refreshing them from Secrets
// Manager when they are older than the TTL. It returns CodeUnavailable when
// none could be loaded, or when the last good ones are past their grace.
func (k *Keyring) Credentials(ctx context.Context) (*auth.Credentials, error) {
	for {
		k.mu.Lock()
		now := k.now()
		if k.cur != nil && now.Before(k.loadedAt.Add(k.ttl)) {
			c := k.cur
			k.mu.Unlock()
			return c, nil
		}
		usable := k.cur != nil && now.Before(k.loadedAt.Add(k.ttl+k.grace))
		if ch := k.inflight; ch != nil {
			if usable {
				c := k.cur
				k.mu.Unlock()
				return c, nil
			}
			k.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, k.unavailable(ctx.Err())
			}
		}
		if now.Before(k.nextTry) {
			c, err := k.cur, k.lastErr
			k.mu.Unlock()
			if usable {
				return c, nil
			}
			return nil, k.unavailable(err)
		}
		ch := make(chan struct{})
		k.inflight = ch
		version := k.version
		k.mu.Unlock()

		c, newVersion, err := k.fetch(ctx, version)

		k.mu.Lock()
		k.finish(ctx, c, newVersion, err)
		close(ch)
		k.inflight = nil
		now = k.now()
		cur, usable := k.cur, k.cur != nil && now.Before(k.loadedAt.Add(k.ttl+k.grace))
		k.mu.Unlock()
		switch {
		case err == nil:
			return cur, nil
		case usable:
			return cur, nil
		}
		return nil, k.unavailable(err)
	}
}

// finish records the outcome of a fetch. c is nil when the version did not
// change. Called with k.mu held.
func (k *Keyring) finish(ctx context.Context, c *auth.Credentials, version string, err error) {
	now := k.now()
	if err != nil {
		k.lastErr = err
		if ctx.Err() == nil {
			// A caller that gave up is no evidence that the service is
			// failing; anything else is, so back off.
			k.nextTry = now.Add(k.retry)
		}
		k.log.ErrorContext(ctx, "secrets: refresh failed; keeping the last good credentials",
			slog.String("secret_id", k.secretID),
			slog.Bool("have_credentials", k.cur != nil),
			slog.String("error", err.Error()))
		return
	}
	k.lastErr = nil
	k.loadedAt = now
	if c == nil {
		return // same version as before: just confirmed
	}
	changed := k.cur != nil
	k.cur, k.version = c, version
	k.log.InfoContext(ctx, "secrets: credentials loaded",
		slog.String("secret_id", k.secretID),
		slog.String("version_id", version),
		slog.Bool("rotated", changed),
		slog.String("active_kid", c.ActiveKID),
		slog.Int("signing_keys", len(c.SigningKeys)),
		slog.Int("api_keys", len(c.APIKeys)))
}

// fetch reads the secret. It returns nil credentials (and no error) when the
// secret's version is still known, so an unchanged document is not parsed
// (and its argon2 hashes not re-validated) every TTL.
func (k *Keyring) fetch(ctx context.Context, known string) (*auth.Credentials, string, error) {
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	out, err := k.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(k.secretID)})
	if err != nil {
		return nil, "", fmt.Errorf("get secret %s: %w", k.secretID, err)
	}
	version := aws.ToString(out.VersionId)
	if version != "" && version == known {
		return nil, version, nil
	}
	var doc []byte
	switch {
	case out.SecretString != nil:
		doc = []byte(*out.SecretString)
	case out.SecretBinary != nil:
		doc = out.SecretBinary
	default:
		return nil, "", fmt.Errorf("secret %s version %s: rejected: it has no value", k.secretID, version)
	}
	c, err := auth.ParseCredentials(doc)
	if err != nil {
		// ParseCredentials' errors never quote the document.
		return nil, "", fmt.Errorf("secret %s version %s: rejected: %w", k.secretID, version, err)
	}
	return c, version, nil
}

func (k *Keyring) unavailable(cause error) error {
	if cause == nil {
		cause = errors.New("no credentials loaded")
	}
	return &event.Error{
		Code:              event.CodeUnavailable,
		Message:           "credentials are temporarily unavailable; retry shortly",
		RetryAfterSeconds: max(1, int(k.retry/time.Second)),
		Err:               fmt.Errorf("secrets: %w", cause),
	}
}

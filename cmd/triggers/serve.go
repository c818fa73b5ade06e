package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/httpapi"
	"github.com/triggershq/triggers/pkg/stream"
)

// serveConfig is everything `triggers serve` reads from its flags and env.
type serveConfig struct {
	addr            string
	dataDir         string
	retention       time.Duration
	maxBodyBytes    int64
	logLevel        slog.Level
	shutdownTimeout time.Duration
	sweepEvery      time.Duration
	tokenTTL        time.Duration
	envAPIKey       string // TRIGGERS_API_KEY; never logged

	allowPrivateWebhooks bool // the SSRF opt-in (docs/webhooks.md)
	metrics              bool // serve GET /metrics

	store          string // storeBolt or storeDynamoDB
	table          string // DynamoDB table
	dynamoEndpoint string // DynamoDB endpoint override (moto_server)
	createTable    bool
	pendingShards  int
	secretID       string // credentials from Secrets Manager instead of credentials.json
	trustedProxies []netip.Prefix

	deliveryConcurrency     int // webhook attempts in flight
	deliveryPerSubscription int // of which to one subscription
}

func parseServe(args []string, e env) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address (host:port; port 0 picks a free one)")
	fs.StringVar(&c.dataDir, "data", "./data", "data directory: the event store and credentials.json")
	fs.DurationVar(&c.retention, "retention", event.DefaultRetention, "how long events are kept")
	fs.Int64Var(&c.maxBodyBytes, "max-body-bytes", 256<<10, "largest accepted request body")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 25*time.Second, "how long to let in-flight requests finish on SIGTERM")
	fs.DurationVar(&c.sweepEvery, "sweep-every", time.Minute, "how often expired events are removed")
	fs.DurationVar(&c.tokenTTL, "token-ttl", 24*time.Hour, "lifetime of the bearer tokens POST /token issues")
	allowPrivate, err := envBool(e, "TRIGGERS_ALLOW_PRIVATE_WEBHOOKS")
	if err != nil {
		return c, err
	}
	fs.BoolVar(&c.allowPrivateWebhooks, "allow-private-webhooks", allowPrivate,
		"let webhooks target loopback, private and link-local addresses (local development and tests only; env TRIGGERS_ALLOW_PRIVATE_WEBHOOKS=1)")
	fs.BoolVar(&c.metrics, "metrics", true, "serve Prometheus metrics at GET /metrics on the same listener (bolt store)")
	fs.StringVar(&c.store, "store", envOr(e, "TRIGGERS_STORE", storeBolt), "event store: bolt (embedded, in --data) or dynamodb (env TRIGGERS_STORE)")
	fs.StringVar(&c.table, "table", envOr(e, "TRIGGERS_TABLE", "triggers"), "DynamoDB table, with --store dynamodb (env TRIGGERS_TABLE)")
	fs.StringVar(&c.dynamoEndpoint, "dynamodb-endpoint", "", "DynamoDB endpoint URL, e.g. a local moto_server (default: AWS, or AWS_ENDPOINT_URL)")
	fs.BoolVar(&c.createTable, "create-table", false, "create the DynamoDB table if it does not exist (local use; production tables come from the CDK stack)")
	shards, err := envInt(e, "TRIGGERS_PENDING_SHARDS", 8)
	if err != nil {
		return c, err
	}
	fs.IntVar(&c.pendingShards, "pending-shards", shards, "DynamoDB pending-index shards; must match the table's writers (env TRIGGERS_PENDING_SHARDS)")
	fs.StringVar(&c.secretID, "secret-id", envOr(e, "TRIGGERS_SECRET_ID", ""), "read credentials from this Secrets Manager secret instead of DATA/credentials.json (env TRIGGERS_SECRET_ID)")
	fs.IntVar(&c.deliveryConcurrency, "delivery-concurrency", stream.DefaultConcurrency,
		"webhook attempts in flight at once; raise it when receivers are slow or far away")
	fs.IntVar(&c.deliveryPerSubscription, "delivery-per-subscription", stream.DefaultPerSubscription,
		"webhook attempts in flight to one subscription, so one slow target cannot take every slot")
	proxies := fs.String("trusted-proxies", e.getenv("TRIGGERS_TRUSTED_PROXIES"),
		"comma-separated CIDRs of reverse proxies whose X-Forwarded-For identifies clients for the /token limit (env TRIGGERS_TRUSTED_PROXIES)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, errHelp
		}
		return c, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return c, usagef("serve takes no arguments, got %q", fs.Args())
	}
	if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return c, usagef("bad --log-level %q", *level)
	}
	if c.retention < time.Minute {
		return c, usagef("--retention must be at least 1m")
	}
	if c.tokenTTL < time.Second || c.tokenTTL > 7*24*time.Hour {
		return c, usagef("--token-ttl must be between 1s and 168h")
	}
	if c.store != storeBolt && c.store != storeDynamoDB {
		return c, usagef("--store must be %s or %s, got %q", storeBolt, storeDynamoDB, c.store)
	}
	if c.pendingShards < 1 || c.pendingShards > 64 {
		return c, usagef("--pending-shards must be between 1 and 64")
	}
	if c.trustedProxies, err = parsePrefixes(*proxies); err != nil {
		return c, usagef("--trusted-proxies: %v", err)
	}
	if c.deliveryConcurrency < 1 || c.deliveryPerSubscription < 1 || c.deliveryPerSubscription > c.deliveryConcurrency {
		return c, usagef("--delivery-concurrency and --delivery-per-subscription must be at least 1, the second at most the first")
	}
	if c.maxBodyBytes < 1024 {
		return c, usagef("--max-body-bytes must be at least 1024")
	}
	c.envAPIKey = e.getenv("TRIGGERS_API_KEY")
	return c, nil
}

func runServe(ctx context.Context, args []string, e env) error {
	c, err := parseServe(args, e)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: c.logLevel}))

	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	keyring, err := keyringFor(ctx, c, e, logger)
	if err != nil {
		return err
	}
	authn, err := auth.New(auth.Config{Keyring: keyring, TokenTTL: c.tokenTTL})
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}

	b, err := openBackend(ctx, c, logger)
	if err != nil {
		return err
	}
	defer b.close()
	cfg := b.api
	cfg.Auth = authn
	cfg.TrustedProxies = c.trustedProxies
	cfg.Logger = logger
	cfg.IDs = &event.IDs{}
	cfg.Retention = c.retention
	cfg.MaxBodyBytes = c.maxBodyBytes
	cfg.Version = version
	api, err := httpapi.New(cfg)
	if err != nil {
		return fmt.Errorf("http api: %w", err)
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.addr, err)
	}
	url := "http://" + ln.Addr().String()
	where := "data in " + c.dataDir
	if c.store == storeDynamoDB {
		where = "DynamoDB table " + c.table
	}
	fmt.Fprintf(e.stdout, "Triggers %s listening on %s (%s)\n", version, url, where)
	logger.Info("listening", "url", url, "store", c.store, "data", c.dataDir, "version", version)

	bg, stopBackground := context.WithCancel(context.Background())
	wait := b.start(bg)
	// Background work stops before the store closes (deferred earlier, so
	// it runs later): a sweep or delivery must not meet a closed store.
	defer func() { stopBackground(); wait() }()

	handler := api.Handler()
	if b.wrap != nil {
		handler = b.wrap(handler)
	}
	handler = closeAfterTransferEncoding(handler)
	return serveUntilDone(ctx, newHTTPServer(handler, logger), ln, c.shutdownTimeout, logger)
}

// closeAfterTransferEncoding closes the connection after every request
// that came with a Transfer-Encoding. RFC 9112 §6.1 requires that after a
// request with both Transfer-Encoding and Content-Length, a request
// smuggling vector (a proxy that frames by Content-Length and net/http,
// which frames by the chunks, disagree on where the next request starts);
// net/http keeps such connections open and deletes the Content-Length
// before a handler could tell (golang/go#80942), so any Transfer-Encoding
// closes. Clients of this API send a Content-Length; a chunked one only
// pays a new connection.
func closeAfterTransferEncoding(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TransferEncoding) > 0 {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}

func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// serveUntilDone serves until ctx is cancelled (SIGINT/SIGTERM), then stops
// accepting, lets in-flight requests finish within timeout, and returns nil:
// a clean shutdown exits 0.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, timeout time.Duration, logger *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", timeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// Requests still running after the timeout (a client trickling
		// its body) are cut off: every write they could make either
		// committed already or is refused by the store, so stopping now
		// loses nothing that was acknowledged.
		logger.Warn("shutdown timeout reached; closing the remaining connections", "error", err.Error())
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/boltstore"
	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/httpapi"
)

// The stores `triggers serve --store` can run on.
const (
	storeBolt     = "bolt"
	storeDynamoDB = "dynamodb"
)

// backend is what serve runs on: the stores, the /token limiter, the
// background work and how the HTTP handler is finished (metrics).
type backend struct {
	api httpapi.Config // Store, Subscriptions, Deliveries, TargetChecker, Limiter filled in
	// start runs the background work until ctx ends; the returned wait
	// blocks until it has stopped, and must be called before close.
	start func(ctx context.Context) (wait func())
	// wrap adds routes outside the API (GET /metrics); nil adds none.
	wrap  func(http.Handler) http.Handler
	close func() error
}

// openBackend opens the configured store.
func openBackend(ctx context.Context, c serveConfig, logger *slog.Logger) (*backend, error) {
	switch c.store {
	case storeDynamoDB:
		return openDynamoBackend(ctx, c, logger)
	default:
		return openBoltBackend(c, logger)
	}
}

// openBoltBackend is the single binary proper: one bbolt file, with the
// change-feed worker, the delivery scheduler and the retention sweeper in
// this process.
func openBoltBackend(c serveConfig, logger *slog.Logger) (*backend, error) {
	store, err := boltstore.Open(filepath.Join(c.dataDir, "triggers.db"), boltstore.Options{
		Logger:            logger,
		OutboxRetention:   c.retention,
		DeliveryRetention: c.retention,
	})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	st, err := newStream(store, c, logger)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("stream: %w", err)
	}
	b := &backend{
		api: httpapi.Config{
			Store:         st.eventStore(),
			Subscriptions: store,
			Deliveries:    store,
			// The sender's SSRF rules (and the --allow-private-webhooks
			// opt-in) vet targets at subscribe time too.
			TargetChecker: st.sender,
			Limiter:       auth.NewMemoryLimiter(auth.LimiterConfig{}),
		},
		close: store.Close,
	}
	b.start = func(ctx context.Context) func() {
		sweeperDone := make(chan struct{})
		go func() { defer close(sweeperDone); store.RunSweeper(ctx, c.sweepEvery) }()
		waitStream := st.start(ctx)
		return func() { waitStream(); <-sweeperDone }
	}
	if c.metrics {
		b.wrap = st.withMetrics
	}
	return b, nil
}

// openDynamoBackend serves the same API on the AWS store (moto locally,
// DynamoDB in production) without deploying. The change feed there is
// DynamoDB Streams, consumed by functions/stream on AWS, so this process
// makes no webhook deliveries and keeps no metrics; TTL does the sweeping.
func openDynamoBackend(ctx context.Context, c serveConfig, logger *slog.Logger) (*backend, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	db := dynamostore.NewClient(awsCfg, dynamostore.ClientOptions{Endpoint: c.dynamoEndpoint})
	if c.createTable {
		if err := dynamostore.CreateTable(ctx, db, c.table); err != nil {
			return nil, fmt.Errorf("create table %s: %w", c.table, err)
		}
	}
	store, err := dynamostore.New(db, dynamostore.Options{
		Table:             c.table,
		PendingShards:     c.pendingShards,
		DeliveryRetention: c.retention,
	})
	if err != nil {
		return nil, fmt.Errorf("dynamodb store: %w", err)
	}
	if err := store.Ping(ctx); err != nil {
		return nil, fmt.Errorf("dynamodb table %s: %w", c.table, err)
	}
	limiter, err := dynamostore.NewLimiter(db, dynamostore.LimiterOptions{Table: c.table})
	if err != nil {
		return nil, fmt.Errorf("dynamodb limiter: %w", err)
	}
	logger.Info("serving on DynamoDB: webhook deliveries and metrics run in AWS (functions/stream, functions/deliver), not in this process",
		"table", c.table, "pending_shards", c.pendingShards)
	return &backend{
		api: httpapi.Config{
			Store:         store,
			Subscriptions: store,
			Deliveries:    store,
			TargetChecker: newTargetChecker(c),
			Limiter:       limiter,
		},
		start: func(context.Context) func() { return func() {} },
		close: store.Close,
	}, nil
}

// keyringFor returns where credentials come from: the Secrets Manager
// secret when --secret-id is given (the AWS deployment's), else
// data/credentials.json.
func keyringFor(ctx context.Context, c serveConfig, e env, logger *slog.Logger) (auth.Keyring, error) {
	if c.secretID == "" {
		return openKeyring(c, e, logger)
	}
	return openSecretKeyring(ctx, c, logger)
}

package boltstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/triggershq/triggers/pkg/event"
)

// Compile-time proof that Store keeps both contracts.
var (
	_ event.Store             = (*Store)(nil)
	_ event.ChangeFeed        = (*Store)(nil)
	_ event.SubscriptionStore = (*Store)(nil)
	_ event.DeliveryLog       = (*Store)(nil)
	_ event.DeliverySchedule  = (*Store)(nil)
)

// Options tune a Store. The zero value is a sensible production setting.
type Options struct {
	// Now is the store's clock, for expiry checks, ack times and change
	// times. Nil means time.Now.
	Now func() time.Time
	// Logger receives sweeper and commit errors. Nil means slog.Default().
	Logger *slog.Logger
	// LockTimeout is how long Open waits for the file lock another process
	// holds before failing. Zero means 1s; it is never infinite, so a second
	// server on the same data directory fails fast instead of hanging.
	LockTimeout time.Duration
	// MaxBatch bounds how many writes share one transaction and fsync.
	// Zero means 256.
	MaxBatch int
	// BatchDelay is how long a commit waits for more writers to join when
	// the previous commit was shared by several (a lone writer never
	// waits). Zero means 200µs, which filled batches of 64 concurrent
	// writers in the benchmark (see docs/storage.md); negative means never
	// wait: writers that arrive during a commit form the next batch.
	BatchDelay time.Duration
	// MaxEventBytes is the largest encoded event Put accepts, beyond which
	// it returns CodeTooLarge. Zero means 4 MiB, well above the HTTP body
	// limit's default of 256 KiB.
	MaxEventBytes int
	// SweepChunk is how many expired events one sweep transaction removes,
	// so that a long sweep never holds the write lock for long. Zero means
	// 1000.
	SweepChunk int
	// OutboxRetention is the safety net for the change feed: the sweeper
	// prunes change records older than this even if a consumer has not
	// passed them, so an abandoned consumer cannot grow the file forever.
	// Zero means event.DefaultRetention; set it to the longest retention
	// events are created with.
	OutboxRetention time.Duration
	// DeliveryRetention is how long webhook deliveries and their attempts
	// are kept (from the delivery's creation and each attempt's time). Zero
	// means event.DefaultRetention; set it to the event retention.
	DeliveryRetention time.Duration
}

// Store is the embedded event store: one bbolt file. It is safe for
// concurrent use. See docs/storage.md for the file layout.
type Store struct {
	db   *bbolt.DB
	now  func() time.Time
	log  *slog.Logger
	opts Options

	// closeMu makes Close wait for writers that are handing work to the
	// commit loop, so none is left waiting on a loop that has stopped.
	closeMu sync.RWMutex
	closed  atomic.Bool
	writes  chan *write
	stop    chan struct{}
	stopped chan struct{}

	commits    atomic.Uint64
	writesDone atomic.Uint64
}

// Open opens or creates the store file at path (mode 0600). It fails after
// Options.LockTimeout if another process has the file open.
func Open(path string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.BatchDelay == 0 {
		opts.BatchDelay = 200 * time.Microsecond
	}
	if opts.MaxEventBytes <= 0 {
		opts.MaxEventBytes = 4 << 20
	}
	if opts.SweepChunk <= 0 {
		opts.SweepChunk = 1000
	}
	if opts.OutboxRetention <= 0 {
		opts.OutboxRetention = event.DefaultRetention
	}
	if opts.DeliveryRetention <= 0 {
		opts.DeliveryRetention = event.DefaultRetention
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:      opts.LockTimeout,
		FreelistType: bbolt.FreelistMapType,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: the file is locked by another process (waited %s); is another triggers server using this data directory?", path, opts.LockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := initSchema(db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{
		db:      db,
		now:     opts.Now,
		log:     opts.Logger,
		opts:    opts,
		writes:  make(chan *write, opts.MaxBatch),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go s.commitLoop()
	return s, nil
}

// initSchema creates the buckets of a new file, and refuses a file that is
// not a Triggers store or was written by a newer version.
func initSchema(db *bbolt.DB) error {
	return db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			empty := true
			_ = tx.ForEach(func([]byte, *bbolt.Bucket) error { empty = false; return nil })
			if !empty {
				return errors.New("not a triggers store: it has buckets but no meta bucket")
			}
			for _, name := range slices.Concat(allBuckets, subscriptionBuckets) {
				if _, err := tx.CreateBucket(name); err != nil {
					return fmt.Errorf("create bucket %s: %w", name, err)
				}
			}
			meta = tx.Bucket(bucketMeta)
			if err := meta.Put(keySchema, u64(schemaVersion)); err != nil {
				return err
			}
			return meta.Put(keyPending, u64(0))
		}
		v := meta.Get(keySchema)
		if len(v) != 8 {
			return errors.New("not a triggers store: no schema version")
		}
		if got := beUint64(v); got != schemaVersion {
			return fmt.Errorf("schema version %d is not supported (this build reads %d)", got, schemaVersion)
		}
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("corrupt store: bucket %s is missing", name)
			}
		}
		for _, name := range subscriptionBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	})
}

// Close waits for writes in progress, then closes the file. Calls after
// Close fail with CodeUnavailable. Close is idempotent.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed.Swap(true) {
		s.closeMu.Unlock()
		return nil
	}
	s.closeMu.Unlock()
	close(s.stop)
	<-s.stopped
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// errClosed is what every call after Close returns.
func errClosed() *event.Error {
	return event.Errorf(event.CodeUnavailable, "store is closed")
}

// Ping reports whether the store can serve reads: it fails after Close.
func (s *Store) Ping(ctx context.Context) error {
	return s.view(ctx, "ping", func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("meta bucket missing")
		}
		return nil
	})
}

// PendingCount returns the number of pending events, including expired ones
// the sweeper has not removed yet. It reads one counter, which every write
// transaction keeps exact, so it is O(1) and cheap enough for a metric.
func (s *Store) PendingCount(ctx context.Context) (int, error) {
	var n uint64
	err := s.view(ctx, "pending count", func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keyPending)
		if len(v) != 8 {
			return fmt.Errorf("%w: pending counter", errCorrupt)
		}
		n = beUint64(v)
		return nil
	})
	return int(n), err
}

// view runs fn in a read transaction and maps failures to *event.Error.
func (s *Store) view(ctx context.Context, op string, fn func(tx *bbolt.Tx) error) error {
	if s.closed.Load() {
		return errClosed()
	}
	if err := ctx.Err(); err != nil {
		return event.Internal(op, err)
	}
	return s.wrap(op, s.db.View(fn))
}

// wrap turns an error from a transaction into an *event.Error: domain
// errors pass through, a closed database is CodeUnavailable, the rest are
// CodeInternal with the cause.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *event.Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return errClosed()
	}
	return event.Internal(op, err)
}

func (s *Store) timestamp() time.Time {
	return event.Timestamp(s.now())
}

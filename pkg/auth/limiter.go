package auth

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// AttemptLimiter limits failed POST /token attempts per client (a client is
// whatever the caller keys on, such as the remote IP). The single binary
// uses MemoryLimiter; the DynamoDB store provides one whose state is shared
// across Lambda instances.
type AttemptLimiter interface {
	// Allow returns how long the client must wait before its next attempt;
	// 0 means go ahead. An error means the limiter's state could not be read
	// (the caller decides whether to fail open or closed).
	Allow(ctx context.Context, client string) (wait time.Duration, err error)
	// Failed records a failed attempt by the client.
	Failed(ctx context.Context, client string) error
}

// Defaults for LimiterConfig.
const (
	DefaultMaxFailures = 10
	DefaultWindow      = 5 * time.Minute
	DefaultMaxClients  = 100_000
)

// LimiterConfig configures a MemoryLimiter; zero fields take the defaults.
type LimiterConfig struct {
	MaxFailures int           // failures allowed per window; default 10
	Window      time.Duration // default 5 minutes
	Now         func() time.Time
	// MaxClients bounds memory: when this many clients are tracked, the one
	// whose window started first is forgotten. Default 100,000 (about 20 MiB).
	MaxClients int
}

// MemoryLimiter is an in-process AttemptLimiter with a fixed window per
// client: the window opens at the client's first failure; once MaxFailures
// failures fall in it, the client waits until it closes. It is safe for
// concurrent use.
type MemoryLimiter struct {
	cfg     LimiterConfig
	mu      sync.Mutex
	clients map[string]*list.Element // of *clientWindow
	order   *list.List               // oldest window first
}

var _ AttemptLimiter = (*MemoryLimiter)(nil)

type clientWindow struct {
	client   string
	start    time.Time
	failures int
}

// NewMemoryLimiter returns a MemoryLimiter for cfg.
func NewMemoryLimiter(cfg LimiterConfig) *MemoryLimiter {
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = DefaultMaxFailures
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	return &MemoryLimiter{cfg: cfg, clients: map[string]*list.Element{}, order: list.New()}
}

// Allow implements AttemptLimiter. It never returns an error.
func (l *MemoryLimiter) Allow(_ context.Context, client string) (time.Duration, error) {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.window(client, now)
	if w == nil || w.failures < l.cfg.MaxFailures {
		return 0, nil
	}
	return w.start.Add(l.cfg.Window).Sub(now), nil
}

// Failed implements AttemptLimiter. It never returns an error.
func (l *MemoryLimiter) Failed(_ context.Context, client string) error {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.window(client, now); w != nil {
		w.failures++
		return nil
	}
	// Windows start in list order, so closed ones gather at the front.
	for e := l.order.Front(); e != nil && !now.Before(e.Value.(*clientWindow).start.Add(l.cfg.Window)); e = l.order.Front() {
		l.forget(e)
	}
	for l.order.Len() >= l.cfg.MaxClients {
		l.forget(l.order.Front())
	}
	l.clients[client] = l.order.PushBack(&clientWindow{client: client, start: now, failures: 1})
	return nil
}

// window returns the client's open window, forgetting a closed one.
func (l *MemoryLimiter) window(client string, now time.Time) *clientWindow {
	e, ok := l.clients[client]
	if !ok {
		return nil
	}
	w := e.Value.(*clientWindow)
	if !now.Before(w.start.Add(l.cfg.Window)) {
		l.forget(e)
		return nil
	}
	return w
}

func (l *MemoryLimiter) forget(e *list.Element) {
	delete(l.clients, e.Value.(*clientWindow).client)
	l.order.Remove(e)
}

// Len returns how many clients are tracked (for tests and metrics).
func (l *MemoryLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}

package httpapi_test

import (
	"context"
	"net/http/httptest"
	"time"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/httpapi"
)

type httpapiConfig = httpapi.Config

// fixedLimiter always answers the same.
type fixedLimiter struct {
	wait time.Duration
	err  error
}

func (l fixedLimiter) Allow(context.Context, string) (time.Duration, error) { return l.wait, l.err }
func (l fixedLimiter) Failed(context.Context, string) error                 { return nil }

// faultStore is the real store with faults injected per method: a nil
// field passes the call through.
type faultStore struct {
	event.Store
	put   func() error
	get   func() error
	list  func() error
	ack   func() error
	ping  func() error
	panic bool
}

func (f *faultStore) fault(fn func() error) error {
	if f.panic {
		panic("injected fault")
	}
	if fn != nil {
		return fn()
	}
	return nil
}

func (f *faultStore) Put(ctx context.Context, e event.Event) (event.Event, bool, error) {
	if err := f.fault(f.put); err != nil {
		return event.Event{}, false, err
	}
	return f.Store.Put(ctx, e)
}

func (f *faultStore) Get(ctx context.Context, id string) (event.Event, error) {
	if err := f.fault(f.get); err != nil {
		return event.Event{}, err
	}
	return f.Store.Get(ctx, id)
}

func (f *faultStore) ListPending(ctx context.Context, q event.ListQuery) (event.Page, error) {
	if err := f.fault(f.list); err != nil {
		return event.Page{}, err
	}
	return f.Store.ListPending(ctx, q)
}

func (f *faultStore) Ack(ctx context.Context, id string) (event.Event, bool, error) {
	if err := f.fault(f.ack); err != nil {
		return event.Event{}, false, err
	}
	return f.Store.Ack(ctx, id)
}

func (f *faultStore) Ping(ctx context.Context) error {
	if err := f.fault(f.ping); err != nil {
		return err
	}
	return f.Store.Ping(ctx)
}

// countingReader is an endless body that counts what was read from it.
type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	c.n += len(p)
	return len(p), nil
}

func (c *countingReader) Close() error { return nil }

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

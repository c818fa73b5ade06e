package storetest

import (
	"testing"

	"github.com/triggershq/triggers/pkg/event"
)

var lifecycleTests = []test{
	{"Ping", testPing},
	{"CallsAfterCloseFail", testClose},
}

func testPing(t *testing.T, h *harness) {
	if err := h.s.Ping(h.ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// testClose: every call after Close returns an error, and none panics.
func testClose(t *testing.T, h *harness) {
	e := h.putN(1, "a", "b")[0]
	if err := h.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls := map[string]func() error{
		"Put":  func() error { _, _, err := h.s.Put(h.ctx, h.build(event.NewEvent{}, 0)); return err },
		"Get":  func() error { _, err := h.s.Get(h.ctx, e.ID); return err },
		"List": func() error { _, err := h.s.ListPending(h.ctx, event.ListQuery{}); return err },
		"Ack":  func() error { _, _, err := h.s.Ack(h.ctx, e.ID); return err },
		"Ping": func() error { return h.s.Ping(h.ctx) },
	}
	if f, ok := h.s.(event.ChangeFeed); ok {
		calls["Changes"] = func() error { _, err := f.Changes(h.ctx, 0, 10); return err }
		calls["Checkpoint"] = func() error { _, err := f.Checkpoint(h.ctx, "c"); return err }
		calls["SaveCheckpoint"] = func() error { return f.SaveCheckpoint(h.ctx, "c", 1) }
	}
	if sw, ok := h.s.(Sweeper); ok {
		calls["SweepExpired"] = func() error { _, err := sw.SweepExpired(h.ctx); return err }
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(); err == nil {
				t.Fatalf("%s after Close: got nil error, want one", name)
			}
		})
	}
	_ = h.s.Close() // a second Close may fail but must not panic
}

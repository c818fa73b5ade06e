package boltstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/triggershq/triggers/pkg/boltstore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) event.Store {
		s, err := boltstore.Open(filepath.Join(t.TempDir(), "triggers.db"), boltstore.Options{Now: cfg.Now, DeliveryRetention: cfg.DeliveryRetention})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Check(context.Background()); err != nil && event.ErrorCode(err) != event.CodeUnavailable {
				t.Errorf("Check after test: %v", err)
			}
			_ = s.Close()
		})
		return s
	})
}

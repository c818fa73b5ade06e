package dynamostore_test

import (
	"testing"

	"github.com/triggershq/triggers/pkg/dynamostore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/storetest"
)

// TestConformance runs the Store conformance suite against moto's DynamoDB,
// a fresh table per subtest.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) event.Store {
		return newStore(t, dynamostore.Options{Now: cfg.Now, DeliveryRetention: cfg.DeliveryRetention})
	})
}

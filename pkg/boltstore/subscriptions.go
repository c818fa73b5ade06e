package boltstore

import (
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/triggershq/triggers/pkg/event"
)

// CreateSubscription stores a new subscription; see event.SubscriptionStore.
// The count of existing ones is taken in the same (serialized) write
// transaction, so concurrent creates can never pass MaxSubscriptions.
func (s *Store) CreateSubscription(ctx context.Context, sub event.Subscription) error {
	if err := sub.Validate(); err != nil {
		return fmt.Errorf("create subscription: %w", err)
	}
	sub = sub.Normalized()
	key, _ := idKey(sub.ID)
	rec := encodeSub(&sub)
	var outcome error
	err := s.update(ctx, "create subscription "+sub.ID, func(tx *bbolt.Tx) error {
		outcome = nil
		b := tx.Bucket(bucketSubs)
		if b.Get(key) != nil {
			outcome = event.Internal("create subscription", fmt.Errorf("subscription %s already exists", sub.ID))
			return nil
		}
		n := 0
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			n++
		}
		if n >= event.MaxSubscriptions {
			outcome = event.Invalid("subscriptions", "there are already %d subscriptions, the most this server keeps; delete one first", event.MaxSubscriptions)
			return nil
		}
		return b.Put(key, rec)
	})
	if err == nil {
		err = outcome
	}
	return err
}

// GetSubscription returns one subscription, secret included; see
// event.SubscriptionStore.
func (s *Store) GetSubscription(ctx context.Context, id string) (event.Subscription, error) {
	canon, err := event.ParseSubscriptionID(id)
	if err != nil {
		return event.Subscription{}, err
	}
	key, _ := idKey(canon)
	var sub event.Subscription
	err = s.view(ctx, "get subscription "+canon, func(tx *bbolt.Tx) error {
		rec := tx.Bucket(bucketSubs).Get(key)
		if rec == nil {
			return event.NotFound("subscription", canon)
		}
		var err error
		sub, err = decodeSub(key, rec)
		return err
	})
	return sub, err
}

// ListSubscriptions returns every subscription, oldest first; see
// event.SubscriptionStore. There are at most MaxSubscriptions, so it reads
// them all and sorts by creation time (ids from different processes'
// generators need not sort in creation order).
func (s *Store) ListSubscriptions(ctx context.Context) ([]event.Subscription, error) {
	out := []event.Subscription{}
	err := s.view(ctx, "list subscriptions", func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketSubs).ForEach(func(k, v []byte) error {
			sub, err := decodeSub(k, v)
			if err != nil {
				return err
			}
			out = append(out, sub)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	event.SortSubscriptions(out)
	return out, nil
}

// DeleteSubscription removes a subscription; see event.SubscriptionStore.
// Its pending deliveries stay in the schedule until DueDeliveries meets and
// ends them; its attempts stay until they expire, unlisted, because the
// HTTP layer answers 404 for the deliveries of an unknown subscription.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	canon, err := event.ParseSubscriptionID(id)
	if err != nil {
		return err
	}
	key, _ := idKey(canon)
	var outcome error
	err = s.update(ctx, "delete subscription "+canon, func(tx *bbolt.Tx) error {
		outcome = nil
		b := tx.Bucket(bucketSubs)
		if b.Get(key) == nil {
			outcome = event.NotFound("subscription", canon)
			return nil
		}
		return b.Delete(key)
	})
	if err == nil {
		err = outcome
	}
	return err
}

// DisableSubscription marks a subscription disabled at the store's Now;
// see event.SubscriptionStore. A disabled one is returned unchanged, with
// disabled=false.
func (s *Store) DisableSubscription(ctx context.Context, id, reason string) (event.Subscription, bool, error) {
	canon, err := event.ParseSubscriptionID(id)
	if err != nil {
		return event.Subscription{}, false, err
	}
	key, _ := idKey(canon)
	now := s.timestamp()
	var (
		result   event.Subscription
		disabled bool
		outcome  error
	)
	err = s.update(ctx, "disable subscription "+canon, func(tx *bbolt.Tx) error {
		result, disabled, outcome = event.Subscription{}, false, nil
		b := tx.Bucket(bucketSubs)
		rec := b.Get(key)
		if rec == nil {
			outcome = event.NotFound("subscription", canon)
			return nil
		}
		sub, err := decodeSub(key, rec)
		if err != nil {
			return err
		}
		if sub.Status == event.SubscriptionDisabled {
			result = sub
			return nil
		}
		sub.Status = event.SubscriptionDisabled
		sub.DisabledReason = reason
		sub.UpdatedAt = now
		result, disabled = sub, true
		return b.Put(key, encodeSub(&sub))
	})
	if err == nil {
		err = outcome
	}
	if err != nil {
		return event.Subscription{}, false, err
	}
	return result, disabled, nil
}

package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Limiter defaults; they match the single binary's in-memory limiter
// (pkg/auth), which this package may not import.
const (
	DefaultLimiterMaxFailures = 10
	DefaultLimiterWindow      = 5 * time.Minute
)

// LimiterOptions configures a Limiter.
type LimiterOptions struct {
	// Table is the table name (required): the store's table.
	Table string
	// MaxFailures is how many failures a client may have in one window
	// (default 10).
	MaxFailures int
	// Window is how long a window lasts from the client's first failure
	// (default 5 minutes).
	Window time.Duration
	// Now is the clock (nil means time.Now).
	Now func() time.Time
}

// Limiter is the POST /token brute-force limiter whose state lives in
// DynamoDB, so it holds across all Lambda instances rather than per process.
// It implements auth.AttemptLimiter with the in-memory limiter's semantics: a
// fixed window opens at a client's first failure; once MaxFailures failures
// fall in it, the client waits until the window closes.
//
// One item per client: pk "RL#<hash of client>", with the failure count, the
// window's end (Unix nanoseconds, so waits are exact) and ttl (so DynamoDB deletes it a little after it closes; a
// closed window still present is ignored and replaced). Failed is one
// UpdateItem ADD; Allow is one strongly consistent GetItem. It is safe for
// concurrent use.
type Limiter struct {
	db     *dynamodb.Client
	table  *string
	max    int
	window time.Duration
	now    func() time.Time
}

// NewLimiter returns a Limiter on the store's table.
func NewLimiter(client *dynamodb.Client, opts LimiterOptions) (*Limiter, error) {
	if client == nil {
		return nil, errors.New("dynamostore: nil client")
	}
	if opts.Table == "" {
		return nil, errors.New("dynamostore: table name is required")
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = DefaultLimiterMaxFailures
	}
	if opts.Window <= 0 {
		opts.Window = DefaultLimiterWindow
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Limiter{db: client, table: aws.String(opts.Table), max: opts.MaxFailures, window: opts.Window, now: opts.Now}, nil
}

const (
	rateKeyPrefix = "RL#"
	rateSK        = "RL"
	attrFailures  = "failures"
	attrWindowEnd = "window_end"
)

// rateKey hashes the client (a remote address, usually): keys stay short
// and bounded whatever the client string, and raw addresses stay out of the
// table and its stream.
func rateKey(client string) map[string]types.AttributeValue {
	sum := sha256.Sum256([]byte(client))
	return map[string]types.AttributeValue{
		attrPK: str(rateKeyPrefix + hex.EncodeToString(sum[:16])),
		attrSK: str(rateSK),
	}
}

// Allow implements auth.AttemptLimiter. Errors are *event.Error
// (CodeUnavailable when DynamoDB throttles or is down).
func (l *Limiter) Allow(ctx context.Context, client string) (time.Duration, error) {
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      l.table,
		Key:            rateKey(client),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, fmt.Errorf("rate limit check: %w", storeError("GetItem", err))
	}
	if len(out.Item) == 0 {
		return 0, nil
	}
	end, err := numberAttr(out.Item, attrWindowEnd)
	if err != nil {
		return 0, fmt.Errorf("rate limit check: %w", storeError("decode", err))
	}
	n, err := numberAttr(out.Item, attrFailures)
	if err != nil {
		return 0, fmt.Errorf("rate limit check: %w", storeError("decode", err))
	}
	now := l.now()
	if n < int64(l.max) || now.UnixNano() >= end {
		return 0, nil
	}
	return time.Duration(end - now.UnixNano()), nil
}

func numberAttr(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("attribute %q: got %T, want a number", name, item[name])
	}
	return strconv.ParseInt(v.Value, 10, 64)
}

// Failed implements auth.AttemptLimiter: one UpdateItem that adds to the
// open window's count, or opens a window if there is none. A closed window
// that TTL has not deleted yet makes the condition fail; it is then replaced
// by a new window, conditionally, so racing instances open only one.
func (l *Limiter) Failed(ctx context.Context, client string) error {
	key := rateKey(client)
	for range 3 {
		now := l.now()
		end := now.Add(l.window)
		_, err := l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:           l.table,
			Key:                 key,
			ConditionExpression: aws.String("attribute_not_exists(#pk) OR #end > :now"),
			UpdateExpression:    aws.String("ADD #n :one SET #end = if_not_exists(#end, :end), #ttl = if_not_exists(#ttl, :ttl)"),
			ExpressionAttributeNames: map[string]string{
				"#pk": attrPK, "#n": attrFailures, "#end": attrWindowEnd, "#ttl": attrTTL,
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": num(1), ":now": num(now.UnixNano()), ":end": num(end.UnixNano()), ":ttl": num(ttlSeconds(end)),
			},
		})
		if err == nil {
			return nil
		}
		if _, ok := conditionFailed(err); !ok {
			return fmt.Errorf("rate limit record: %w", storeError("UpdateItem", err))
		}
		item := map[string]types.AttributeValue{
			attrFailures: num(1), attrWindowEnd: num(end.UnixNano()), attrTTL: num(ttlSeconds(end)),
		}
		for k, v := range key {
			item[k] = v
		}
		_, err = l.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 l.table,
			Item:                      item,
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #end <= :now"),
			ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#end": attrWindowEnd},
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now.UnixNano())},
		})
		if err == nil {
			return nil
		}
		if _, ok := conditionFailed(err); !ok {
			return fmt.Errorf("rate limit record: %w", storeError("PutItem", err))
		}
		// Another instance opened the new window first: count in it.
	}
	return fmt.Errorf("rate limit record: %w", storeError("UpdateItem", errors.New("window kept changing")))
}

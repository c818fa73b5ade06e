// Package streamtest reads a table's DynamoDB stream through the DynamoDB
// Streams API (moto_server's in the tests) and presents the records the
// way a Lambda event source mapping invokes a function with them: the JSON
// of an events.DynamoDBEvent. It is for tests, like net/http/httptest.
package streamtest

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Reader reads a stream shard by shard from the start (TRIM_HORIZON), and
// on each Read returns the records that arrived since the last one.
type Reader struct {
	client    *dynamodbstreams.Client
	streamARN string
	iterators map[string]*string // shard id → next iterator; nil once closed
}

// NewReader returns a Reader of the stream.
func NewReader(client *dynamodbstreams.Client, streamARN string) *Reader {
	return &Reader{client: client, streamARN: streamARN, iterators: map[string]*string{}}
}

// Read returns every record not read yet, shard after shard in the order
// DescribeStream lists them, each shard's in sequence order.
func (r *Reader) Read(ctx context.Context) ([]types.Record, error) {
	desc, err := r.client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(r.streamARN)})
	if err != nil {
		return nil, fmt.Errorf("describe stream: %w", err)
	}
	var out []types.Record
	for _, sh := range desc.StreamDescription.Shards {
		id := aws.ToString(sh.ShardId)
		it, seen := r.iterators[id]
		if !seen {
			got, err := r.client.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
				StreamArn: aws.String(r.streamARN), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
			})
			if err != nil {
				return nil, fmt.Errorf("shard iterator of %s: %w", id, err)
			}
			it = got.ShardIterator
		}
		for it != nil {
			page, err := r.client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
			if err != nil {
				return nil, fmt.Errorf("get records of %s: %w", id, err)
			}
			out = append(out, page.Records...)
			it = page.NextShardIterator
			if len(page.Records) == 0 {
				break // caught up; keep the iterator for the next Read
			}
		}
		r.iterators[id] = it
	}
	return out, nil
}

// LambdaEvent returns the JSON of the events.DynamoDBEvent an event source
// mapping on the stream streamARN would invoke a function with for recs
// (the record members AWS documents, eventSourceARN added by Lambda;
// ApproximateCreationDateTime in epoch seconds; binary values in base64).
func LambdaEvent(streamARN string, recs []types.Record) ([]byte, error) {
	out := make([]map[string]any, 0, len(recs))
	for _, r := range recs {
		m, err := lambdaRecord(streamARN, r)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return json.Marshal(map[string]any{"Records": out})
}

func lambdaRecord(streamARN string, r types.Record) (map[string]any, error) {
	if r.Dynamodb == nil {
		return nil, fmt.Errorf("record %s has no dynamodb member", aws.ToString(r.EventID))
	}
	d := r.Dynamodb
	body := map[string]any{
		"Keys":           attrMap(d.Keys),
		"SequenceNumber": aws.ToString(d.SequenceNumber),
		"SizeBytes":      aws.ToInt64(d.SizeBytes),
		"StreamViewType": string(d.StreamViewType),
	}
	if d.ApproximateCreationDateTime != nil {
		body["ApproximateCreationDateTime"] = d.ApproximateCreationDateTime.Unix()
	}
	if d.NewImage != nil {
		body["NewImage"] = attrMap(d.NewImage)
	}
	if d.OldImage != nil {
		body["OldImage"] = attrMap(d.OldImage)
	}
	m := map[string]any{
		"eventID":        aws.ToString(r.EventID),
		"eventName":      string(r.EventName),
		"eventVersion":   aws.ToString(r.EventVersion),
		"eventSource":    aws.ToString(r.EventSource),
		"awsRegion":      aws.ToString(r.AwsRegion),
		"dynamodb":       body,
		"eventSourceARN": streamARN,
	}
	if id := r.UserIdentity; id != nil {
		m["userIdentity"] = map[string]any{"type": aws.ToString(id.Type), "principalId": aws.ToString(id.PrincipalId)}
	}
	return m, nil
}

func attrMap(m map[string]types.AttributeValue) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = attr(v)
	}
	return out
}

// attr is one attribute value in DynamoDB's JSON form ({"S": "…"}).
func attr(v types.AttributeValue) map[string]any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": v.Value} // []byte marshals as base64
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}
	case *types.AttributeValueMemberBS:
		return map[string]any{"BS": v.Value}
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = attr(e)
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": attrMap(v.Value)}
	}
	return map[string]any{"NULL": true}
}

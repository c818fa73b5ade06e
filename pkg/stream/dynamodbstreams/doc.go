// Package dynamodbstreams adapts DynamoDB Streams, as a Lambda event source
// mapping delivers them (events.DynamoDBEvent), to the stream consumer:
// each record of an event item becomes an event.Change, and the handler
// reports partial batch failures (batchItemFailures).
//
// Which records are changes:
//
//   - only event items (pk "EVT#…"; the mapping's filter already drops the
//     others, and this package checks again);
//   - INSERT: the event was created (NewImage);
//   - MODIFY from status pending to delivered: it was acknowledged
//     (NewImage); any other MODIFY is not a change of the feed;
//   - REMOVE by DynamoDB's TTL process, which the record marks with
//     userIdentity {type "Service", principalId "dynamodb.amazonaws.com"}:
//     it expired (OldImage). A REMOVE without that identity is someone
//     deleting the item by hand: logged and ignored.
//
// Images are decoded by dynamostore.EventFromItem, the store's own decoder,
// after converting aws-lambda-go's attribute values to the SDK's.
package dynamodbstreams

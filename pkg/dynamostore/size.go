package dynamostore

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MaxItemBytes is the largest item the store writes, by DynamoDB's size rule
// (attribute names plus values). DynamoDB's own limit is 400 KB = 409,600
// bytes; we stop at 400,000 so that the small differences between our count
// and DynamoDB's (numbers, which we over-count) can never turn into a
// ValidationException and a 500. Index copies do not count: a global
// secondary index entry holds a subset of the base item's attributes, so it
// is never larger than the item (see docs/dynamodb.md).
const MaxItemBytes = 400_000

// itemSize is the size of item by DynamoDB's rule: for each attribute, the
// UTF-8 length of its name plus the size of its value. Strings and binaries
// count their bytes; numbers are over-counted as the length of their decimal
// text (DynamoDB stores about one byte per two significant digits, plus one).
// The store writes no other attribute types.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += len(v.Value)
		case *types.AttributeValueMemberB:
			n += len(v.Value)
		}
	}
	return n
}

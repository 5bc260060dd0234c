package eventstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The idempotency item: keyed by the idempotency key, with expires_at as the table's TTL attribute.
const (
	attrIdemKey         = "key"
	attrIdemRequestHash = "request_hash"
	attrIdemResponse    = "response"
	attrIdemExpiresAt   = "expires_at"
)

var (
	// condIdemReplaceable lets a put replace a record only once it expired; "key" is a reserved word.
	condIdemReplaceable = aws.String("attribute_not_exists(#k) OR " + attrIdemExpiresAt + " < :now")
	idemNames           = map[string]string{"#k": attrIdemKey}
)

// idempotencyPut returns the conditional Put of r; expires_at holds whole epoch seconds, as DynamoDB's TTL wants.
func (d *DynamoDB) idempotencyPut(r *IdempotencyRecord) *types.Put {
	item := map[string]types.AttributeValue{
		attrIdemKey:         &types.AttributeValueMemberS{Value: r.Key},
		attrIdemRequestHash: &types.AttributeValueMemberS{Value: r.RequestHash},
		attrIdemExpiresAt:   &types.AttributeValueMemberN{Value: strconv.FormatInt(r.ExpiresAt.Unix(), 10)},
	}
	if len(r.Response) > 0 {
		item[attrIdemResponse] = &types.AttributeValueMemberB{Value: r.Response}
	}
	return &types.Put{
		TableName:                d.tables.idempotency,
		Item:                     item,
		ConditionExpression:      condIdemReplaceable,
		ExpressionAttributeNames: idemNames,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(d.cfg.Now().Unix(), 10)},
		},
	}
}

// Idempotency implements Store with a consistent GetItem; a record past its expiry, which DynamoDB's TTL has
// not deleted yet, reads as none.
func (d *DynamoDB) Idempotency(ctx context.Context, key string) (*IdempotencyRecord, error) {
	if key == "" {
		return nil, nil
	}
	item, err := d.getItem(ctx, "load idempotency key", d.tables.idempotency, attrIdemKey, key)
	if err != nil || item == nil {
		return nil, err
	}
	expires, err := intAttr(item, attrIdemExpiresAt)
	if err != nil {
		return nil, fmt.Errorf("load idempotency key: %w", err)
	}
	rec := &IdempotencyRecord{Key: key, ExpiresAt: time.Unix(expires, 0).UTC()}
	if expired(rec.ExpiresAt, d.cfg.Now()) {
		return nil, nil
	}
	if rec.RequestHash, err = stringAttr(item, attrIdemRequestHash, false); err != nil {
		return nil, fmt.Errorf("load idempotency key: %w", err)
	}
	switch v := item[attrIdemResponse].(type) {
	case nil:
	case *types.AttributeValueMemberB:
		rec.Response = v.Value
	default:
		return nil, fmt.Errorf("load idempotency key: %w", malformed(attrIdemResponse, "not binary"))
	}
	return rec, nil
}

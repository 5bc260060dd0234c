package eventstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// attrEntityKey is the entity table's hash key (S); every other attribute of an entity is a string it set.
const attrEntityKey = "key"

// condEntityAbsent guards an entity write that creates; "key" is a reserved word.
var condEntityAbsent = aws.String("attribute_not_exists(#k)")

// entityUpdate returns the transaction's Update of e: SET #a0 = :v0, … over its attributes in name order, so
// that the same write always makes the same request, guarded by condEntityAbsent when it creates.
func (d *DynamoDB) entityUpdate(e *EntityWrite) *types.Update {
	names := slices.Sorted(maps.Keys(e.Set))
	exprNames := make(map[string]string, len(names)+1)
	values := make(map[string]types.AttributeValue, len(names))
	var expr strings.Builder
	expr.WriteString("SET ")
	for i, name := range names {
		n, v := "#a"+strconv.Itoa(i), ":v"+strconv.Itoa(i)
		if i > 0 {
			expr.WriteString(", ")
		}
		expr.WriteString(n + " = " + v)
		exprNames[n] = name
		values[v] = &types.AttributeValueMemberS{Value: e.Set[name]}
	}
	u := &types.Update{
		TableName:                 d.tables.entities,
		Key:                       hashKey(attrEntityKey, e.Key),
		UpdateExpression:          aws.String(expr.String()),
		ExpressionAttributeNames:  exprNames,
		ExpressionAttributeValues: values,
	}
	if e.Create {
		u.ConditionExpression = condEntityAbsent
		exprNames["#k"] = attrEntityKey
	}
	return u
}

// Entity implements Store with a strongly consistent GetItem; an attribute that is not a string is
// ErrMalformedItem (wrapped).
func (d *DynamoDB) Entity(ctx context.Context, key string) (map[string]string, error) {
	if key == "" {
		return nil, nil
	}
	op := fmt.Sprintf("load entity %q", key)
	item, err := d.getItem(ctx, op, d.tables.entities, attrEntityKey, key)
	if err != nil || item == nil {
		return nil, err
	}
	attrs := make(map[string]string, len(item)-1)
	for name := range item {
		if name == attrEntityKey {
			continue
		}
		if attrs[name], err = stringAttr(item, name, false); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	return attrs, nil
}

package awsclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// tableActiveTimeout bounds the wait for a new table to become ACTIVE.
const tableActiveTimeout = 5 * time.Minute

// EnsureTables creates, on demand billing, each table of specs that does not exist yet, and waits until all are
// active; an existing table is left as it is, so it may run any number of times (for local runs and tests: in
// AWS the infrastructure code owns the tables). It returns the first error, naming the table and wrapping the
// SDK's.
func EnsureTables(ctx context.Context, db *dynamodb.Client, specs ...dynamodb.CreateTableInput) error {
	for i := range specs {
		in := specs[i]
		in.BillingMode = types.BillingModePayPerRequest
		if _, err := db.CreateTable(ctx, &in); err != nil {
			var inUse *types.ResourceInUseException
			if !errors.As(err, &inUse) {
				return fmt.Errorf("create table %s: %w", aws.ToString(in.TableName), err)
			}
		}
	}
	waiter := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 2*time.Second
	})
	for i := range specs {
		in := &dynamodb.DescribeTableInput{TableName: specs[i].TableName}
		if err := waiter.Wait(ctx, in, tableActiveTimeout); err != nil {
			return fmt.Errorf("wait for table %s: %w", aws.ToString(in.TableName), err)
		}
	}
	return nil
}

package eventstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// These cases cannot be provoked on moto: throttling, 5xx answers, transactions cancelled for reasons other
// than a failed condition.

func TestStoreErrorClassifies(t *testing.T) {
	t.Parallel()
	response := func(status int) error {
		return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err: errors.New("answer")}
	}
	tests := []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"connection refused", &smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}, true},
		{"retries exhausted on a send error", &retry.MaxAttemptsError{Attempt: 3, Err: &smithyhttp.RequestSendError{Err: errors.New("reset")}}, true},
		{"throttled", &smithy.GenericAPIError{Code: "ThrottlingException"}, true},
		{"throughput exceeded", &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}, true},
		{"internal server error", &types.InternalServerError{Message: aws.String("oops")}, true},
		{"503", response(503), true},
		{"HTTP client timeout", fmt.Errorf("attempt: %w", context.DeadlineExceeded), true},
		{"400", response(400), false},
		{"validation", &smithy.GenericAPIError{Code: "ValidationException"}, false},
		{"table missing", &types.ResourceNotFoundException{Message: aws.String("no table")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := storeError(context.Background(), "op", tt.err)
			if got := errors.Is(err, ErrUnavailable); got != tt.unavailable {
				t.Errorf("ErrUnavailable = %t, want %t: %v", got, tt.unavailable, err)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("the cause %v is not wrapped in %v", tt.err, err)
			}
		})
	}
}

func TestStoreErrorPrefersTheContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), -time.Second)
	defer cancel()
	err := storeError(ctx, "op", &smithyhttp.RequestSendError{Err: errors.New("canceled")})
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnavailable) {
		t.Errorf("got %v, want the context's error alone", err)
	}
}

func TestAppendErrorReadsCancellationReasons(t *testing.T) {
	t.Parallel()
	d := &DynamoDB{}
	req := AppendRequest{
		AggregateID: "room-1", ExpectedSeq: 4,
		Events:      []Record{{Seq: 5}, {Seq: 6}},
		Snapshot:    &Snapshot{Seq: 6},
		Idempotency: &IdempotencyRecord{Key: "k"},
	}
	// Item order: event 5, event 6, the check of seq 4, the snapshot, the idempotency record.
	reasons := func(codes ...string) error {
		rs := make([]types.CancellationReason, len(codes))
		for i, c := range codes {
			rs[i] = types.CancellationReason{Code: aws.String(c)}
		}
		return &types.TransactionCanceledException{CancellationReasons: rs}
	}
	tests := []struct {
		name    string
		err     error
		want    error
		wantSeq int64
	}{
		{"second event exists", reasons("None", "ConditionalCheckFailed", "None", "None", "None"), ErrVersionConflict, 6},
		{"first event exists", reasons("ConditionalCheckFailed", "ConditionalCheckFailed", "None", "None", "None"), ErrVersionConflict, 5},
		{"expected seq missing", reasons("None", "None", "ConditionalCheckFailed", "None", "None"), ErrVersionConflict, 4},
		{"event in another transaction", reasons("TransactionConflict", "None", "None", "None", "None"), ErrVersionConflict, 5},
		{"snapshot newer", reasons("None", "None", "None", "ConditionalCheckFailed", "None"), ErrVersionConflict, 5},
		{"key exists", reasons("None", "None", "None", "None", "ConditionalCheckFailed"), ErrIdempotencyKeyExists, 0},
		{"key exists and conflict", reasons("ConditionalCheckFailed", "None", "None", "None", "ConditionalCheckFailed"), ErrIdempotencyKeyExists, 0},
		{"key in another transaction", reasons("None", "None", "None", "None", "TransactionConflict"), ErrVersionConflict, 5},
		{"throttled", reasons("ThrottlingError", "None", "None", "None", "None"), ErrUnavailable, 0},
		{"not a cancellation", &smithyhttp.RequestSendError{Err: errors.New("refused")}, ErrUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := d.appendError(context.Background(), req, tt.err)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var conflict *ConflictError
			if errors.As(err, &conflict) && (conflict.Seq != tt.wantSeq || conflict.AggregateID != "room-1") {
				t.Errorf("conflict at %s seq %d, want room-1 seq %d", conflict.AggregateID, conflict.Seq, tt.wantSeq)
			}
		})
	}
	err := d.appendError(context.Background(), req, reasons("ValidationError", "None", "None", "None", "None"))
	if err == nil || errors.Is(err, ErrVersionConflict) || errors.Is(err, ErrUnavailable) {
		t.Errorf("validation error mapped to %v", err)
	}
}

package eventstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
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
		Events:   []Record{{Seq: 5}, {Seq: 6}},
		Snapshot: &Snapshot{Seq: 6},
		Entities: []EntityWrite{
			{Key: "room-1/msg-1", Create: true}, {Key: "room-1/msg-2", Create: true}, {Key: "room-1/msg-0"},
		},
		Idempotency: &IdempotencyRecord{Key: "k"},
	}
	// Item order: event 5, event 6, the check of seq 4, the snapshot, the three entities, the idempotency record.
	reasons := func(codes ...string) error {
		rs := make([]types.CancellationReason, 8)
		for i := range rs {
			rs[i] = types.CancellationReason{Code: aws.String("None")}
		}
		for i, c := range codes {
			if c != "" {
				rs[i] = types.CancellationReason{Code: aws.String(c)}
			}
		}
		return &types.TransactionCanceledException{CancellationReasons: rs}
	}
	const ccf, tc = "ConditionalCheckFailed", "TransactionConflict"
	tests := []struct {
		name    string
		err     error
		want    error
		wantMsg string // the seq of a conflict, the key of an entity
	}{
		{"second event exists", reasons("", ccf), ErrVersionConflict, "seq 6"},
		{"first event exists", reasons(ccf, ccf), ErrVersionConflict, "seq 5"},
		{"expected seq missing", reasons("", "", ccf), ErrVersionConflict, "seq 4"},
		{"event in another transaction", reasons(tc), ErrVersionConflict, "seq 5"},
		{"snapshot newer", reasons("", "", "", ccf), ErrVersionConflict, "seq 5"},
		{"key exists", reasons("", "", "", "", "", "", "", ccf), ErrIdempotencyKeyExists, `"k"`},
		{"key exists and conflict", reasons(ccf, "", "", "", "", "", "", ccf), ErrIdempotencyKeyExists, `"k"`},
		{"key in another transaction", reasons("", "", "", "", "", "", "", tc), ErrVersionConflict, "seq 5"},
		{"second entity exists", reasons("", "", "", "", "", ccf), ErrEntityExists, `"room-1/msg-2"`},
		{"entities exist, the first is named", reasons("", "", "", "", ccf, ccf), ErrEntityExists, `"room-1/msg-1"`},
		{"entity exists and conflict", reasons(ccf, "", "", "", ccf), ErrEntityExists, `"room-1/msg-1"`},
		{"entity exists and key exists", reasons("", "", "", "", ccf, "", "", ccf), ErrIdempotencyKeyExists, `"k"`},
		{"entity in another transaction", reasons("", "", "", "", "", "", tc), ErrVersionConflict, "seq 5"},
		{"throttled", reasons("ThrottlingError"), ErrUnavailable, ""},
		{"not a cancellation", &smithyhttp.RequestSendError{Err: errors.New("refused")}, ErrUnavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := d.appendError(context.Background(), req, tt.err)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), "room-1") {
				t.Errorf("error %q does not name room-1 and %s", err, tt.wantMsg)
			}
		})
	}
	err := d.appendError(context.Background(), req, reasons("ValidationError"))
	if err == nil || errors.Is(err, ErrVersionConflict) || errors.Is(err, ErrUnavailable) {
		t.Errorf("validation error mapped to %v", err)
	}

	// Without ExpectedSeq, snapshot and idempotency record, the entities follow the events.
	bare := AppendRequest{AggregateID: "room-2", Events: []Record{{Seq: 1}}, Entities: []EntityWrite{{Key: "room-2/msg-1", Create: true}}}
	canceled := &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
		{Code: aws.String("None")}, {Code: aws.String(ccf)},
	}}
	if err := d.appendError(context.Background(), bare, canceled); !errors.Is(err, ErrEntityExists) {
		t.Errorf("entity after one event: got %v, want ErrEntityExists", err)
	}
}

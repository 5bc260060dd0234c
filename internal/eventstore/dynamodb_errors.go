package eventstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// errCallTimeout marks a call that DynamoDBConfig.CallTimeout cut short while its caller's context was live.
var errCallTimeout = errors.New("no answer within the call timeout")

// bounded runs call, one DynamoDB or S3 request (for an S3 object, with the read of its body), under a context
// that ends at the earlier of ctx's end and timeout from now. When the timeout, not ctx, cut it short, the error
// wraps errCallTimeout, which storeError reports as ErrUnavailable.
func bounded[T any](ctx context.Context, timeout time.Duration, call func(context.Context) (T, error)) (T, error) {
	callCtx, cancel := context.WithTimeoutCause(ctx, timeout, errCallTimeout)
	defer cancel()
	out, err := call(callCtx)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(callCtx), errCallTimeout) {
		err = fmt.Errorf("%w (%v): %w", errCallTimeout, timeout, err)
	}
	return out, err
}

// send is bounded for one SDK operation: op(ctx, in) under the call timeout.
func send[In, Out, Opt any](ctx context.Context, timeout time.Duration, op func(context.Context, In, ...Opt) (Out, error),
	in In) (Out, error) {
	return bounded(ctx, timeout, func(ctx context.Context) (Out, error) { return op(ctx, in) })
}

// storeError wraps an error of an AWS call made for op: the context's error when ctx ended, ErrUnavailable as
// well as the cause when the server was unreachable, throttled past the retries or failed on its side, else the
// cause alone.
func storeError(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", op, ctxErr)
	}
	if unavailable(err) {
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// transientCodes are the AWS error codes of throttling and of failures on the server's side.
var transientCodes = map[string]bool{
	"ThrottlingException":                    true,
	"Throttling":                             true,
	"ProvisionedThroughputExceededException": true,
	"RequestLimitExceeded":                   true,
	"LimitExceededException":                 true,
	"SlowDown":                               true,
	"InternalServerError":                    true,
	"InternalError":                          true,
	"ServiceUnavailable":                     true,
	"RequestTimeout":                         true,
	"RequestTimeoutException":                true,
}

// unavailable reports whether err means the store cannot serve now: the request was not sent or its answer not
// read (network errors, timeouts), the retry quota ran out, or the server throttled or failed (5xx).
func unavailable(err error) bool {
	var (
		sendErr *smithyhttp.RequestSendError
		quota   *ratelimit.QuotaExceededError
		netErr  net.Error
		status  interface{ HTTPStatusCode() int }
		api     smithy.APIError
	)
	switch {
	case errors.As(err, &sendErr), errors.As(err, &quota), errors.As(err, &netErr), errors.Is(err, errCallTimeout):
		return true
	case errors.Is(err, context.DeadlineExceeded):
		// A timeout of the HTTP client or of one attempt, while the caller's context is still live.
		return true
	case errors.As(err, &status) && status.HTTPStatusCode() >= 500:
		return true
	case errors.As(err, &api):
		return transientCodes[api.ErrorCode()]
	}
	return false
}

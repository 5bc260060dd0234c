package kafka

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// countingProvider hands out numbered credentials, or fails once failNext is set.
type countingProvider struct {
	calls    int
	failNext bool
}

func (p *countingProvider) Retrieve(context.Context) (aws.Credentials, error) {
	p.calls++
	if p.failNext {
		p.failNext = false
		return aws.Credentials{}, errors.New("no role")
	}
	return aws.Credentials{AccessKeyID: "AKID" + string(rune('0'+p.calls)), SecretAccessKey: "s"}, nil
}

// TestDefaultChainRetrievesPerConnection checks that each SASL session asks the provider again, so renewed
// temporary credentials reach the next connection, and that a failure reaches the caller.
func TestDefaultChainRetrievesPerConnection(t *testing.T) {
	t.Parallel()
	p := &countingProvider{}
	d := &defaultChain{creds: p}
	ctx := context.Background()
	first, err := d.auth(ctx)
	if err != nil {
		t.Fatalf("auth: %v", err)
	}
	second, err := d.auth(ctx)
	if err != nil {
		t.Fatalf("auth: %v", err)
	}
	if p.calls != 2 || first.AccessKey == second.AccessKey {
		t.Errorf("provider called %d times, keys %q then %q; want a retrieval per session", p.calls, first.AccessKey, second.AccessKey)
	}
	p.failNext = true
	if _, err := d.auth(ctx); err == nil {
		t.Error("auth with a failing provider: want error, got nil")
	}
}

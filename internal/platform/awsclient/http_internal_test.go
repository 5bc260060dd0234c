package awsclient

import (
	"context"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

func TestClientsKeepIdleConnectionsForABurst(t *testing.T) {
	sdk, err := LoadSDKConfig(context.Background(), config.AWS{Region: "us-east-1", AccessKeyID: "k", SecretAccessKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	client, ok := sdk.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		t.Fatalf("SDK HTTP client is %T, want the configured *awshttp.BuildableClient", sdk.HTTPClient)
	}
	tr := client.GetTransport()
	if tr.MaxIdleConnsPerHost != idleConnsPerHost || tr.MaxIdleConns != idleConnsPerHost {
		t.Fatalf("idle connections: %d per host, %d in all; want %d each", tr.MaxIdleConnsPerHost, tr.MaxIdleConns,
			idleConnsPerHost)
	}
}

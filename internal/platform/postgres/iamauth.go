package postgres

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	rdsauth "github.com/aws/aws-sdk-go-v2/feature/rds/auth"
	"github.com/jackc/pgx/v5"
)

// iamAuthToken returns a BeforeConnect hook that sets the connection's password to an RDS IAM auth token for its
// user, host and port. A token is signed locally (no request) and valid for 15 minutes, so each new connection
// gets its own; creds is the SDK's cached provider, which renews temporary credentials itself.
func iamAuthToken(region string, creds aws.CredentialsProvider) func(context.Context, *pgx.ConnConfig) error {
	return func(ctx context.Context, cc *pgx.ConnConfig) error {
		endpoint := net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port)))
		token, err := rdsauth.BuildAuthToken(ctx, endpoint, region, cc.User, creds)
		if err != nil {
			return fmt.Errorf("rds iam auth token for %s at %s: %w", cc.User, endpoint, err)
		}
		cc.Password = token
		return nil
	}
}

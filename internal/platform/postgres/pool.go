// Package postgres opens the services' pgx pools from the typed configuration, with the credentials it names:
// the password in POSTGRES_URL (local default), a fresh RDS IAM auth token per connection (POSTGRES_IAM_AUTH),
// or a Secrets Manager secret in the RDS JSON shape that is re-read as it rotates (POSTGRES_SECRET_ARN).
//
// The IAM and secret paths work through the pool's BeforeConnect hook; code that opens connections from the
// pool's ConnConfig by other means (database/sql through stdlib.OpenDB, pgx.ConnectConfig) must run that hook
// too, e.g. stdlib.OpenDB(*cfg, stdlib.OptionBeforeConnect(pool.Config().BeforeConnect)).
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrses-aws/pipeline/internal/platform/awsclient"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// unreadHost is the host of a secret-backed pool's base configuration: a connection made without the pool's
// BeforeConnect fails on it with a clear "no such host" instead of reaching some default server.
const unreadHost = "postgres-secret-not-read.invalid"

// NewPool opens a pool configured by PoolConfig; it connects to nothing yet (connections, and the token or the
// secret they need, are made on first use). It returns an error when a configuration is invalid.
func NewPool(ctx context.Context, cfg config.Postgres, awsCfg config.AWS) (*pgxpool.Pool, error) {
	pcfg, err := PoolConfig(ctx, cfg, awsCfg)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres pool: %w", err)
	}
	return pool, nil
}

// PoolConfig returns the pool configuration for cfg without contacting any server. From POSTGRES_URL it is the
// parsed URL; with IAMAuth its BeforeConnect sets each new connection's password to an RDS IAM auth token for the
// URL's user, host and port; with SecretARN its BeforeConnect sets host, port, user, password and database from
// the secret (see secretCredentials for when it is re-read). The AWS configuration (region, credentials, local
// endpoint) is loaded only for those two. It returns an error when cfg or awsCfg is invalid; no message ever
// includes a password.
func PoolConfig(ctx context.Context, cfg config.Postgres, awsCfg config.AWS) (*pgxpool.Config, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("postgres config: %w", err)
	}
	raw := cfg.URL.Reveal()
	if cfg.SecretARN != "" {
		raw = "host=" + unreadHost + " sslmode=disable"
	}
	pcfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		// pgx redacts the password from its parse errors only on a best-effort basis, so its error is dropped.
		return nil, errors.New("postgres config: POSTGRES_URL is not a valid connection string")
	}
	if !cfg.IAMAuth && cfg.SecretARN == "" {
		return pcfg, nil
	}
	sdk, err := awsclient.LoadSDKConfig(ctx, awsCfg)
	if err != nil {
		return nil, fmt.Errorf("postgres credentials: %w", err)
	}
	if cfg.IAMAuth {
		pcfg.BeforeConnect = iamAuthToken(sdk.Region, sdk.Credentials)
		return pcfg, nil
	}
	sm := secretsmanager.NewFromConfig(sdk, func(o *secretsmanager.Options) {
		if awsCfg.EndpointURL != "" {
			o.BaseEndpoint = aws.String(awsCfg.EndpointURL)
		}
	})
	creds := newSecretCredentials(sm, cfg)
	pcfg.BeforeConnect = creds.beforeConnect
	pcfg.AfterConnect = creds.afterConnect
	return pcfg, nil
}

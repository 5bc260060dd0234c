package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// secretGetter is the part of the Secrets Manager client the pool needs.
type secretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput,
		optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// rdsSecret is the JSON shape RDS and its rotation functions give a database secret.
type rdsSecret struct {
	Host     string      `json:"host"`
	Port     json.Number `json:"port"` // a number from RDS, a string from some hand-made secrets; both decode
	Username string      `json:"username"`
	Password string      `json:"password"`
	DBName   string      `json:"dbname"`
	Engine   string      `json:"engine"`
}

// secretCredentials feeds new connections from the secret: it reads the secret on the first connection, again
// once the value read is SecretRefresh old, and sooner (but not before SecretRetry) when a connection attempt
// made since the last successful one did not succeed, as happens after a rotation changed the password. When a
// re-read for age alone fails, the value in hand is used; a re-read after a failure returns its error.
// Safe for concurrent use.
type secretCredentials struct {
	get     secretGetter
	id      string
	sslMode string
	refresh time.Duration
	retry   time.Duration
	now     func() time.Time

	mu     sync.Mutex
	secret rdsSecret
	has    bool
	readAt time.Time
	// pending counts connection attempts since the last one that succeeded (the pool's AfterConnect).
	pending int
}

func newSecretCredentials(get secretGetter, cfg config.Postgres) *secretCredentials {
	return &secretCredentials{get: get, id: cfg.SecretARN, sslMode: cfg.SecretSSLMode,
		refresh: cfg.SecretRefresh, retry: cfg.SecretRetry, now: time.Now}
}

// beforeConnect points the connection at the secret's server and signs in as its user.
func (s *secretCredentials) beforeConnect(ctx context.Context, cc *pgx.ConnConfig) error {
	sec, err := s.current(ctx)
	if err != nil {
		return err
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(sec.Username, sec.Password),
		Host:     net.JoinHostPort(sec.Host, sec.port()),
		Path:     "/" + sec.DBName,
		RawQuery: url.Values{"sslmode": {s.sslMode}}.Encode(),
	}
	parsed, err := pgconn.ParseConfig(u.String())
	if err != nil {
		// The parse error may quote the password.
		return fmt.Errorf("postgres secret %s does not make a valid connection string", s.id)
	}
	cc.Host, cc.Port, cc.Database = parsed.Host, parsed.Port, parsed.Database
	cc.User, cc.Password = parsed.User, parsed.Password
	cc.TLSConfig, cc.Fallbacks = parsed.TLSConfig, parsed.Fallbacks
	return nil
}

// afterConnect records that a connection made with the secret in hand succeeded.
func (s *secretCredentials) afterConnect(context.Context, *pgx.Conn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = 0
	return nil
}

// current returns the secret to connect with, re-read when it is old or suspect.
func (s *secretCredentials) current(ctx context.Context) (rdsSecret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	age := s.now().Sub(s.readAt)
	suspect := s.has && s.pending > 0 && age >= s.retry
	s.pending++
	if s.has && age < s.refresh && !suspect {
		return s.secret, nil
	}
	sec, err := s.read(ctx)
	if err != nil {
		if s.has && !suspect {
			return s.secret, nil
		}
		return rdsSecret{}, err
	}
	s.secret, s.has, s.readAt = sec, true, s.now()
	return sec, nil
}

// read fetches and checks the secret's current version; its errors never include the value.
func (s *secretCredentials) read(ctx context.Context) (rdsSecret, error) {
	out, err := s.get.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.id)})
	if err != nil {
		return rdsSecret{}, fmt.Errorf("read postgres secret %s: %w", s.id, err)
	}
	if out.SecretString == nil {
		return rdsSecret{}, fmt.Errorf("postgres secret %s has no string value", s.id)
	}
	var sec rdsSecret
	if err := json.Unmarshal([]byte(*out.SecretString), &sec); err != nil {
		// A syntax error may quote part of the value, so only its kind is kept.
		return rdsSecret{}, fmt.Errorf("postgres secret %s is not the RDS JSON shape (host, port, username, password, dbname)", s.id)
	}
	if err := sec.validate(); err != nil {
		return rdsSecret{}, fmt.Errorf("postgres secret %s: %w", s.id, err)
	}
	return sec, nil
}

func (r rdsSecret) validate() error {
	var errs []error
	if r.Host == "" || r.Username == "" || r.Password == "" {
		errs = append(errs, errors.New("host, username and password are required"))
	}
	if r.Port != "" {
		if n, err := r.Port.Int64(); err != nil || n < 1 || n > 65535 {
			errs = append(errs, errors.New("port is not in 1..65535"))
		}
	}
	if r.Engine != "" && !strings.Contains(r.Engine, "postgres") {
		errs = append(errs, fmt.Errorf("engine %q is not postgres", r.Engine))
	}
	return errors.Join(errs...)
}

// port returns the secret's port, 5432 when it has none.
func (r rdsSecret) port() string {
	if r.Port == "" {
		return "5432"
	}
	return r.Port.String()
}

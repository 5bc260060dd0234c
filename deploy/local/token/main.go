// Command token prints an HS256 JWT for the local stack, for curl and the README's examples:
//
//	go run ./deploy/local/token -sub alice [-ttl 1h]
//
// It signs with $AUTH_HS256_SECRET, or local-dev-secret when that is unset (the secret `make run` gives the
// services), and adds iss and aud when $AUTH_ISSUER and $AUTH_AUDIENCE are set, as the services then require.
// It is a development tool: it reads the environment directly.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cqrses-aws/pipeline/internal/devtoken"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, time.Now, os.Stdout, os.Stderr))
}

// run mints the token described by args and the environment read through getenv, writes it to stdout and
// returns the exit code: 0, 1 when minting fails, 2 for bad usage.
func run(args []string, getenv func(string) string, now func() time.Time, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sub := fs.String("sub", "", "account id to authenticate as: the token's sub claim (required)")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := checkArgs(*sub, *ttl, fs.NArg()); err != nil {
		fmt.Fprintf(stderr, "token: %v\n", err)
		fs.Usage()
		return 2
	}
	s := devtoken.FromEnv(getenv)
	token, err := devtoken.MintAt(now(), s.Secret, *sub, *ttl, s.Issuer, s.Audience)
	if err != nil {
		fmt.Fprintf(stderr, "token: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, token)
	return 0
}

func checkArgs(sub string, ttl time.Duration, extra int) error {
	var errs []error
	if sub == "" {
		errs = append(errs, errors.New("-sub is required"))
	}
	if ttl <= 0 {
		errs = append(errs, errors.New("-ttl must be positive"))
	}
	if extra > 0 {
		errs = append(errs, errors.New("unexpected arguments after the flags"))
	}
	return errors.Join(errs...)
}

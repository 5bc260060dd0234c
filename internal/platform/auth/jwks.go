package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"golang.org/x/time/rate"
)

const (
	// jwksRefreshEvery is the background refresh of the key set; rotations in between are picked up by the
	// refresh on an unknown key id.
	jwksRefreshEvery = time.Hour
	// jwksFetchTimeout bounds one fetch of the key set.
	jwksFetchTimeout = 10 * time.Second
	// unknownKIDRefreshEvery limits the refreshes that tokens with unknown key ids can cause, so forged tokens
	// cannot hammer the identity provider.
	unknownKIDRefreshEvery = time.Minute
	// unknownKIDWaitMax is how long a request may wait for that limit. A wait longer than this fails at once
	// (the limiter knows the delay in advance), so a forged kid never parks a request; it also bounds the fetch.
	unknownKIDWaitMax = 5 * time.Second
)

// newJWKS fetches the key set at url once (an error when that fails) and keeps it refreshed until ctx ends.
func newJWKS(ctx context.Context, url string) (keyfunc.Keyfunc, error) {
	failFirst := false
	jwks, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{url}, keyfunc.Override{
		Client:                    &http.Client{Timeout: jwksFetchTimeout},
		HTTPTimeout:               jwksFetchTimeout,
		NoErrorReturnFirstHTTPReq: &failFirst,
		RateLimitWaitMax:          unknownKIDWaitMax,
		RefreshInterval:           jwksRefreshEvery,
		RefreshUnknownKID:         rate.NewLimiter(rate.Every(unknownKIDRefreshEvery), 1),
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				slog.ErrorContext(ctx, "refresh jwks", "url", u, "error", err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("load jwks: %w", err)
	}
	return jwks, nil
}

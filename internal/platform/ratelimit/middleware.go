package ratelimit

import (
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/cqrses-aws/pipeline/internal/platform/problem"
)

// Middleware limits each request by the key that key returns for it (typically auth.AccountID, so it runs after
// authentication). A key over its limit gets a 429 problem with Retry-After in whole seconds (at least 1) and the
// request is aborted; an empty key is not limited here, and a nil l or key limits nothing.
func Middleware(l *Limiter, key func(*gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if l == nil || key == nil {
			c.Next()
			return
		}
		k := key(c)
		if k == "" {
			c.Next()
			return
		}
		ok, retry := l.Allow(k)
		if ok {
			c.Next()
			return
		}
		secs := max(int64(math.Ceil(retry.Seconds())), 1)
		c.Header("Retry-After", strconv.FormatInt(secs, 10))
		problem.Write(c.Writer, problem.New(http.StatusTooManyRequests, "too many requests; retry after the time in Retry-After"))
		c.Abort()
	}
}

package auth

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/cqrses-aws/pipeline/internal/platform/problem"
)

// accountKey is the Gin context key of the authenticated account id; its type keeps other packages' keys apart.
type accountKey struct{}

// Middleware authenticates every request by its "Authorization: Bearer <jwt>" header and stores the token's
// subject for AccountID. A missing or invalid token (bad signature, expired, wrong issuer, …) aborts the request
// with a 401 problem and a WWW-Authenticate: Bearer challenge (error="invalid_token" when a token was sent); the
// body never says why the token failed. A nil v rejects every request.
func Middleware(v *Verifier) gin.HandlerFunc {
	return func(c *gin.Context) {
		token, sent := bearerToken(c.GetHeader("Authorization"))
		if !sent {
			unauthorized(c, "Bearer", "a bearer token is required")
			return
		}
		claims, err := v.verify(c.Request.Context(), token)
		if err != nil {
			unauthorized(c, `Bearer error="invalid_token"`, "the bearer token is invalid or expired")
			return
		}
		c.Set(accountKey{}, claims.Subject)
		c.Next()
	}
}

// AccountID returns the account id that Middleware authenticated for this request, or "" when there is none.
func AccountID(c *gin.Context) string {
	if c == nil {
		return ""
	}
	v, _ := c.Get(accountKey{})
	id, _ := v.(string)
	return id
}

// bearerToken returns the token of a Bearer authorization header (the scheme is case-insensitive) and whether
// there was one.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func unauthorized(c *gin.Context, challenge, detail string) {
	c.Header("WWW-Authenticate", challenge)
	problem.Write(c.Writer, problem.New(http.StatusUnauthorized, detail))
	c.Abort()
}

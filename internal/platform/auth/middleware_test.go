package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
)

// protected returns an engine whose /whoami, behind the middleware, answers the authenticated account id.
func protected(tb testing.TB, v *auth.Verifier) *gin.Engine {
	tb.Helper()
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/whoami", auth.Middleware(v), func(c *gin.Context) { c.String(http.StatusOK, "%s", auth.AccountID(c)) })
	return e
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	e := protected(t, newVerifier(t, auth.Config{HS256Secret: secret}))
	valid := authtest.MintHS256(t, secret, "alice", time.Hour)
	tests := []struct {
		name      string
		header    string // Authorization; "" sends none
		status    int
		challenge string
		body      string // for 200
	}{
		{"valid token", "Bearer " + valid, 200, "", "alice"},
		{"scheme in lower case", "bearer " + valid, 200, "", "alice"},
		{"no header", "", 401, "Bearer", ""},
		{"other scheme", "Basic YWxpY2U6cHc=", 401, "Bearer", ""},
		{"bearer without token", "Bearer ", 401, "Bearer", ""},
		{"token without scheme", valid, 401, "Bearer", ""},
		{"garbage token", "Bearer x.y.z", 401, `Bearer error="invalid_token"`, ""},
		{"expired token", "Bearer " + authtest.MintHS256(t, secret, "alice", -time.Hour), 401, `Bearer error="invalid_token"`, ""},
		{"wrong secret", "Bearer " + authtest.MintHS256(t, "another-secret-0123456789", "alice", time.Hour), 401,
			`Bearer error="invalid_token"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, "/whoami", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status == 200 {
				if rec.Body.String() != tt.body {
					t.Errorf("AccountID = %q, want %q", rec.Body, tt.body)
				}
				return
			}
			checkUnauthorized(t, rec, tt.challenge)
		})
	}
}

func checkUnauthorized(tb testing.TB, rec *httptest.ResponseRecorder, challenge string) {
	tb.Helper()
	if got := rec.Header().Get("WWW-Authenticate"); got != challenge {
		tb.Errorf("WWW-Authenticate = %q, want %q", got, challenge)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		tb.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var p struct {
		Status int    `json:"status"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		tb.Fatalf("body %q is not a problem document: %v", rec.Body, err)
	}
	if p.Status != 401 || p.Title == "" || p.Detail == "" {
		tb.Errorf("problem %+v lacks status 401, title or detail", p)
	}
	// The handler never ran, and the body says nothing about why the token failed.
	for _, leak := range []string{"alice", "signature", "expired:", "malformed", "claims"} {
		if strings.Contains(rec.Body.String(), leak) {
			tb.Errorf("401 body %s leaks %q", rec.Body, leak)
		}
	}
}

func TestMiddlewareWithNilVerifierRejects(t *testing.T) {
	t.Parallel()
	e := protected(t, nil)
	req := httptest.NewRequest(http.MethodGet, "/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+authtest.MintHS256(t, secret, "alice", time.Hour))
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Fatalf("status %d, want 401", rec.Code)
	}
	checkUnauthorized(t, rec, `Bearer error="invalid_token"`)
}

func TestAccountIDWithoutAuthentication(t *testing.T) {
	t.Parallel()
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	if got := auth.AccountID(c); got != "" {
		t.Errorf("AccountID on an unauthenticated request = %q, want \"\"", got)
	}
	c.Set("account_id", "mallory") // a string key of the same name must not be taken for the account
	if got := auth.AccountID(c); got != "" {
		t.Errorf("AccountID = %q, want \"\"", got)
	}
	if got := auth.AccountID(nil); got != "" {
		t.Errorf("AccountID(nil) = %q, want \"\"", got)
	}
}

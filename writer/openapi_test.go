package main

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/cqrses-aws/pipeline/internal/openapi"
	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/internal/platform/metrics"
	"github.com/cqrses-aws/pipeline/internal/platform/service/ginapp"
	"github.com/cqrses-aws/pipeline/writer/ports"
)

// newRoutesEngine returns the writer's Gin engine as build mounts it (ginapp plus ports' Register, the only
// routes it has) but without the app behind the handlers: good for answers given before a command runs.
func newRoutesEngine(tb testing.TB, middleware ...gin.HandlerFunc) *gin.Engine {
	tb.Helper()
	m, err := metrics.NewHTTPMetrics(metrics.NewRegistry(name))
	if err != nil {
		tb.Fatalf("NewHTTPMetrics: %v", err)
	}
	log := slog.New(slog.DiscardHandler)
	engine := ginapp.New(log, m)
	ports.NewHTTPServer(nil, nil, log).Register(engine, middleware...)
	return engine
}

func TestRoutesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	if err := openapi.CheckRoutes(openapi.ServiceWriter, newRoutesEngine(t).Routes()); err != nil {
		t.Errorf("the writer's routes and openapi.json differ:\n%v", err)
	}
}

// TestEdgeAnswersMatchOpenAPI sends requests the writer refuses before any command runs and checks each answer
// against the document.
func TestEdgeAnswersMatchOpenAPI(t *testing.T) {
	t.Parallel()
	const room = "room-01JDZK7V3Q8X4N2M5R6T7W8Y9A"
	open := newRoutesEngine(t)
	closed := newRoutesEngine(t, auth.Middleware(nil))
	tests := []struct {
		name        string
		engine      *gin.Engine
		method      string
		path        string
		contentType string
		body        string
		status      int
	}{
		{"no token", closed, "POST", "/v1/rooms", "application/json", `{"name":"general"}`, 401},
		{"not JSON", open, "POST", "/v1/rooms", "text/plain", `name=general`, 415},
		{"too big", open, "POST", "/v1/rooms", "application/json", `{"name":"` + strings.Repeat("x", ports.MaxBody) + `"}`, 413},
		{"empty body", open, "POST", "/v1/accounts", "application/json", ``, 400},
		{"missing field", open, "POST", "/v1/rooms", "application/json", `{}`, 400},
		{"wrong type", open, "POST", "/v1/accounts/me/rename", "application/json", `{"name":1}`, 400},
		{"unknown field", open, "POST", "/v1/rooms/" + room + "/members", "application/json", `{"account_id":"a","role":"member","x":1}`, 400},
		{"unknown role", open, "POST", "/v1/rooms/" + room + "/members", "application/json", `{"account_id":"a","role":"owner"}`, 400},
		{"malformed room id", open, "DELETE", "/v1/rooms/general", "", ``, 404},
		{"malformed message id", open, "POST", "/v1/rooms/" + room + "/messages/42/edit", "application/json", `{"text":"hi"}`, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			tt.engine.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if err := openapi.ValidateResponse(tt.method, tt.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes()); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestCommandAnswersMatchOpenAPI runs every command on the local stack, with the error answers the domain gives,
// and checks each answer against the document.
func TestCommandAnswersMatchOpenAPI(t *testing.T) {
	t.Parallel()
	w := startWriter(t, testConfig(t))
	succeeded := map[string]bool{}
	// send sends one command to the route template tmpl (its {room} and {message} filled in) and checks the
	// answer's status and its agreement with the document.
	var room, msg string
	send := func(want int, method, tmpl, sub, body string, headers ...string) reply {
		t.Helper()
		path := strings.NewReplacer("{room}", room, "{message}", msg, "{account}", "bob").Replace(tmpl)
		r := w.must(want, method, path, sub, body, headers...)
		if err := openapi.ValidateResponse(method, tmpl, r.status, r.header.Get("Content-Type"), []byte(r.raw)); err != nil {
			t.Errorf("%s %s as %s: %v", method, path, sub, err)
		}
		if want < 300 {
			succeeded[method+" "+tmpl] = true
		}
		return r
	}

	send(201, "POST", "/v1/accounts", "alice", `{"name":"Alice"}`)
	send(409, "POST", "/v1/accounts", "alice", `{"name":"Alice"}`)
	send(404, "POST", "/v1/accounts/me/rename", "bob", `{"name":"Bob"}`)
	send(403, "POST", "/v1/rooms", "bob", `{"name":"bob's"}`)
	send(201, "POST", "/v1/accounts", "bob", `{"name":"Bob"}`)
	send(200, "POST", "/v1/accounts/me/rename", "alice", `{"name":"Alice A."}`)
	room = send(201, "POST", "/v1/rooms", "alice", `{"name":"general"}`).body["id"].(string)
	send(200, "POST", "/v1/rooms/{room}/members", "alice", `{"account_id":"bob","role":"member"}`)
	send(409, "POST", "/v1/rooms/{room}/members", "alice", `{"account_id":"bob","role":"member"}`)
	send(403, "POST", "/v1/rooms/{room}/rename", "bob", `{"name":"mine"}`)
	send(412, "POST", "/v1/rooms/{room}/rename", "alice", `{"name":"random"}`, "If-Match", `"1"`)
	send(200, "POST", "/v1/rooms/{room}/rename", "alice", `{"name":"random"}`, "If-Match", `"2"`)
	key := []string{"Idempotency-Key", "openapi-1"}
	msg = send(201, "POST", "/v1/rooms/{room}/messages", "bob", `{"text":"hi"}`, key...).body["message_id"].(string)
	send(201, "POST", "/v1/rooms/{room}/messages", "bob", `{"text":"hi"}`, key...)
	send(422, "POST", "/v1/rooms/{room}/messages", "bob", `{"text":"hello"}`, key...)
	send(200, "POST", "/v1/rooms/{room}/messages/{message}/edit", "bob", `{"text":"hi!"}`)
	send(403, "POST", "/v1/rooms/{room}/messages/{message}/edit", "alice", `{"text":"hi?"}`)
	send(200, "DELETE", "/v1/rooms/{room}/messages/{message}", "alice", "")
	send(404, "DELETE", "/v1/rooms/{room}/messages/{message}", "alice", "")
	send(200, "DELETE", "/v1/rooms/{room}/members/{account}", "alice", "")
	send(404, "DELETE", "/v1/rooms/{room}/members/{account}", "alice", "")
	send(200, "DELETE", "/v1/rooms/{room}", "alice", "")
	send(409, "POST", "/v1/rooms/{room}/messages", "alice", `{"text":"anyone?"}`)

	routes, err := openapi.Routes(openapi.ServiceWriter)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if !r.Operational && !succeeded[r.String()] {
			t.Errorf("%s: no successful answer checked; add it to the flow", r)
		}
	}
}

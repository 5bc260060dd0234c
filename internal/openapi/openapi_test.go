package openapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/cqrses-aws/pipeline/internal/openapi"
	"github.com/cqrses-aws/pipeline/internal/platform/health"
	"github.com/cqrses-aws/pipeline/internal/platform/httpserver"
	"github.com/cqrses-aws/pipeline/internal/platform/metrics"
	"github.com/cqrses-aws/pipeline/internal/platform/problem"
)

const (
	room    = "room-01JDZK7V3Q8X4N2M5R6T7W8Y9A"
	message = "msg-01JDZK9C2B4D6F8H0J2K4M6N8P"
	token   = "c1.Mzpyb29tLTAxSkRaSzdWM1E4WDRO"
)

// mustDocument returns the embedded document decoded into generic JSON values.
func mustDocument(tb testing.TB) map[string]any {
	tb.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openapi.Document(), &doc); err != nil {
		tb.Fatalf("openapi.json does not parse: %v", err)
	}
	return doc
}

func TestDocumentParses(t *testing.T) {
	t.Parallel()
	if err := openapi.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
	onDisk, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(onDisk) != string(openapi.Document()) {
		t.Error("Document() differs from openapi.json")
	}
	doc := mustDocument(t)
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", doc["openapi"])
	}
	if doc["jsonSchemaDialect"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("jsonSchemaDialect = %v, want the 2020-12 dialect", doc["jsonSchemaDialect"])
	}
	servers := map[string]string{}
	for _, s := range doc["servers"].([]any) {
		s := s.(map[string]any)
		servers[s["x-service"].(string)] = s["url"].(string)
	}
	want := map[string]string{openapi.ServiceWriter: "http://127.0.0.1:8080", openapi.ServiceQueryAPI: "http://127.0.0.1:8081"}
	for svc, url := range want {
		if servers[svc] != url {
			t.Errorf("server of %s = %q, want %q", svc, servers[svc], url)
		}
	}
	scheme, _ := doc["components"].(map[string]any)["securitySchemes"].(map[string]any)["bearer"].(map[string]any)
	if scheme["type"] != "http" || scheme["scheme"] != "bearer" || scheme["bearerFormat"] != "JWT" {
		t.Errorf("security scheme bearer = %v, want HTTP bearer JWT", scheme)
	}
}

func TestEveryOperationHasAService(t *testing.T) {
	t.Parallel()
	for path, item := range mustDocument(t)["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			if method == "parameters" || method == "summary" || method == "description" || method == "servers" {
				continue
			}
			var services []string
			switch v := op.(map[string]any)["x-service"].(type) {
			case string:
				services = []string{v}
			case []any:
				for _, s := range v {
					name, _ := s.(string)
					services = append(services, name)
				}
			}
			if len(services) == 0 {
				t.Errorf("%s %s has no x-service", method, path)
			}
			for _, s := range services {
				if s != openapi.ServiceWriter && s != openapi.ServiceQueryAPI {
					t.Errorf("%s %s: x-service %q is not a service", method, path, s)
				}
			}
		}
	}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	operational := []string{"GET /healthz", "GET /metrics", "GET /readyz"}
	tests := []struct {
		service string
		want    []string
	}{
		{openapi.ServiceWriter, []string{
			"POST /v1/accounts", "POST /v1/accounts/me/rename", "POST /v1/rooms", "DELETE /v1/rooms/{room}",
			"POST /v1/rooms/{room}/members", "DELETE /v1/rooms/{room}/members/{account}",
			"POST /v1/rooms/{room}/messages", "DELETE /v1/rooms/{room}/messages/{message}",
			"POST /v1/rooms/{room}/messages/{message}/edit", "POST /v1/rooms/{room}/rename",
		}},
		{openapi.ServiceQueryAPI, []string{
			"GET /openapi.json", "GET /v1/accounts/{account}", "GET /v1/rooms", "GET /v1/rooms/{room}",
			"GET /v1/rooms/{room}/messages", "GET /v1/search",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			t.Parallel()
			routes, err := openapi.Routes(tt.service)
			if err != nil {
				t.Fatal(err)
			}
			var got, gotOperational []string
			for _, r := range routes {
				if r.Operational {
					gotOperational = append(gotOperational, r.String())
				} else {
					got = append(got, r.String())
				}
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("Routes(%s) = %q,\nwant %q", tt.service, got, want)
			}
			if !slices.Equal(gotOperational, operational) {
				t.Errorf("operational routes of %s = %q, want %q", tt.service, gotOperational, operational)
			}
		})
	}
	if _, err := openapi.Routes("relay"); err == nil {
		t.Error("Routes(relay) = nil error, want an unknown service")
	}
}

// TestOperationalRoutesAreServedOutsideGin keeps Route.Operational true to httpserver.Mux: those paths reach
// the operational handlers, every other documented path reaches the app (the Gin engine).
func TestOperationalRoutesAreServedOutsideGin(t *testing.T) {
	t.Parallel()
	marker := func(s string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, s) })
	}
	mux := httpserver.Mux(marker("live"), marker("ready"), marker("metrics"), marker("app"))
	for _, svc := range []string{openapi.ServiceWriter, openapi.ServiceQueryAPI} {
		routes, err := openapi.Routes(svc)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range routes {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(r.Method, strings.NewReplacer("{", "", "}", "").Replace(r.Path), nil))
			if gotApp := rec.Body.String() == "app"; gotApp == r.Operational {
				t.Errorf("%s: Operational = %v, but Mux sends it to %q", r, r.Operational, rec.Body.String())
			}
		}
	}
}

// collectRefs returns every $ref value in v.
func collectRefs(v any, refs *[]string) {
	switch n := v.(type) {
	case map[string]any:
		for k, x := range n {
			if s, ok := x.(string); ok && k == "$ref" {
				*refs = append(*refs, s)
				continue
			}
			collectRefs(x, refs)
		}
	case []any:
		for _, x := range n {
			collectRefs(x, refs)
		}
	}
}

func TestEveryRefResolves(t *testing.T) {
	t.Parallel()
	doc := mustDocument(t)
	var refs []string
	collectRefs(doc, &refs)
	if len(refs) < 50 {
		t.Fatalf("found %d $refs; the walk is broken", len(refs))
	}
	for _, ref := range refs {
		ptr, ok := strings.CutPrefix(ref, "#/")
		if !ok {
			t.Errorf("$ref %q is not local to the document", ref)
			continue
		}
		var node any = doc
		for _, tok := range strings.Split(ptr, "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			m, _ := node.(map[string]any)
			next, found := m[tok]
			if !found {
				t.Errorf("$ref %q does not resolve (no %q)", ref, tok)
				break
			}
			node = next
		}
	}
}

func TestGinToOpenAPI(t *testing.T) {
	t.Parallel()
	tests := []struct{ gin, want string }{
		{"/v1/rooms", "/v1/rooms"},
		{"/v1/rooms/:room", "/v1/rooms/{room}"},
		{"/v1/rooms/:room/messages/:message/edit", "/v1/rooms/{room}/messages/{message}/edit"},
		{"/static/*filepath", "/static/{filepath}"},
		{"/v1/rooms/{room}", "/v1/rooms/{room}"},
		{"/", "/"},
	}
	for _, tt := range tests {
		if got := openapi.GinToOpenAPI(tt.gin); got != tt.want {
			t.Errorf("GinToOpenAPI(%q) = %q, want %q", tt.gin, got, tt.want)
		}
	}
}

func problemBody(tb testing.TB, p problem.Problem) (int, string, []byte) {
	tb.Helper()
	rec := httptest.NewRecorder()
	problem.Write(rec, p)
	return rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes()
}

func TestValidateResponse(t *testing.T) {
	t.Parallel()
	const jsonType = "application/json; charset=utf-8"
	roomSummary := `{"id":"` + room + `","name":"general","member_count":2,"last_message_at":"2026-11-25T12:00:00.123456Z","version":7}`
	msg := `{"id":"` + message + `","room_id":"` + room + `","sender":{"id":"acct-1","name":"Ann"},"text":"hi","posted_at":"2026-11-25T12:00:00Z","edited_at":null}`
	invalidStatus, invalidType, invalidBody := problemBody(t, problem.Invalid(problem.FieldError{Field: "name", Reason: "required"}))
	notFoundStatus, notFoundType, notFoundBody := problemBody(t, problem.New(http.StatusNotFound, "no such room"))
	tests := []struct {
		name        string
		method      string
		path        string
		status      int
		contentType string
		body        string
		want        error // nil: accepted
	}{
		// Accepted.
		{"command 201", "POST", "/v1/rooms", 201, jsonType, `{"id":"` + room + `","version":1,"consistency_token":"` + token + `"}`, nil},
		{"post message names it", "POST", "/v1/rooms/:room/messages", 201, jsonType, `{"id":"` + room + `","version":2,"consistency_token":"` + token + `","message_id":"` + message + `"}`, nil},
		{"concrete path", "DELETE", "/v1/rooms/" + room + "/messages/" + message, 200, jsonType, `{"id":"` + room + `","version":3,"consistency_token":"` + token + `"}`, nil},
		{"literal beats parameter", "POST", "/v1/accounts/me/rename", 200, jsonType, `{"id":"acct-1","version":2,"consistency_token":"` + token + `"}`, nil},
		{"problem from problem.Invalid", "POST", "/v1/rooms", invalidStatus, invalidType, string(invalidBody), nil},
		{"problem from problem.New", "GET", "/v1/rooms/{room}", notFoundStatus, notFoundType, string(notFoundBody), nil},
		{"room list", "GET", "/v1/rooms?limit=2", 200, jsonType, `{"items":[` + roomSummary + `],"next_cursor":"abc"}`, nil},
		{"room list, last page null", "GET", "/v1/rooms", 200, jsonType, `{"items":[],"next_cursor":null}`, nil},
		{"room list, last page omitted", "GET", "/v1/rooms", 200, jsonType, `{"items":[]}`, nil},
		{"room detail", "GET", "/v1/rooms/" + room, 200, jsonType, `{"id":"` + room + `","name":"general","version":3,"members":[{"account_id":"acct-1","name":"Ann","role":"admin"}]}`, nil},
		{"messages", "GET", "/v1/rooms/:room/messages", 200, jsonType, `{"items":[` + msg + `],"next_cursor":null}`, nil},
		{"search", "GET", "/v1/search?q=hi", 200, jsonType, `{"items":[{"message_id":"` + message + `","room_id":"` + room + `","room_name":"general","sender":{"id":"acct-1","name":"Ann"},"text":"hi","highlight":"<em>hi</em>","posted_at":"2026-11-25T12:00:00Z"}]}`, nil},
		{"account", "GET", "/v1/accounts/acct-1", 200, jsonType, `{"id":"acct-1","name":"Ann"}`, nil},
		{"this document", "GET", "/openapi.json", 200, "application/json", string(openapi.Document()), nil},
		{"metrics", "GET", "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8", "# HELP up\n", nil},

		// Rejected: the body.
		{"missing field", "POST", "/v1/rooms", 201, jsonType, `{"id":"` + room + `","version":1}`, openapi.ErrInvalidBody},
		{"post message without message_id", "POST", "/v1/rooms/{room}/messages", 201, jsonType, `{"id":"` + room + `","version":2,"consistency_token":"` + token + `"}`, openapi.ErrInvalidBody},
		{"wrong type", "POST", "/v1/rooms", 201, jsonType, `{"id":"` + room + `","version":"1","consistency_token":"` + token + `"}`, openapi.ErrInvalidBody},
		{"extra field", "GET", "/v1/accounts/{account}", 200, jsonType, `{"id":"acct-1","name":"Ann","email":"a@example.com"}`, openapi.ErrInvalidBody},
		{"not a date-time", "GET", "/v1/rooms", 200, jsonType, `{"items":[` + strings.Replace(roomSummary, "2026-11-25T12:00:00.123456Z", "yesterday", 1) + `]}`, openapi.ErrInvalidBody},
		{"edited_at absent", "GET", "/v1/rooms/{room}/messages", 200, jsonType, `{"items":[` + strings.Replace(msg, `,"edited_at":null`, "", 1) + `]}`, openapi.ErrInvalidBody},
		{"version 0", "POST", "/v1/rooms/{room}/members", 200, jsonType, `{"id":"` + room + `","version":0,"consistency_token":"` + token + `"}`, openapi.ErrInvalidBody},
		{"problem without detail", "GET", "/v1/rooms", 401, "application/problem+json", `{"type":"about:blank","title":"Unauthorized","status":401}`, openapi.ErrInvalidBody},
		{"not JSON", "GET", "/v1/rooms", 200, jsonType, `<html>`, openapi.ErrInvalidBody},

		// Rejected: not in the document.
		{"undocumented status", "GET", "/v1/rooms", 418, "application/problem+json", `{"type":"about:blank","title":"I'm a teapot","status":418,"detail":"x"}`, openapi.ErrUndocumented},
		{"status of another operation", "GET", "/v1/rooms", 409, "application/problem+json", `{"type":"about:blank","title":"Conflict","status":409,"detail":"x"}`, openapi.ErrUndocumented},
		{"problem as plain JSON", "GET", "/v1/rooms", 400, jsonType, `{}`, openapi.ErrUndocumented},
		{"success as problem", "GET", "/v1/rooms", 200, "application/problem+json", `{"items":[]}`, openapi.ErrUndocumented},
		{"undocumented operation", "PATCH", "/v1/rooms/{room}", 200, jsonType, `{}`, openapi.ErrUndocumented},
		{"unknown path", "GET", "/v2/rooms", 200, jsonType, `{}`, openapi.ErrUndocumented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := openapi.ValidateResponse(tt.method, tt.path, tt.status, tt.contentType, []byte(tt.body))
			switch {
			case tt.want == nil && err != nil:
				t.Errorf("ValidateResponse = %v, want nil", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("ValidateResponse = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestOperationalAnswersMatch validates what the shared operational handlers really answer.
func TestOperationalAnswersMatch(t *testing.T) {
	t.Parallel()
	down := health.NewChecker(0,
		health.Check{Name: "dynamodb", Probe: func(context.Context) error { return nil }},
		health.Check{Name: "journal", Probe: func(context.Context) error { return errors.New("table not found") }})
	up := health.NewChecker(0, health.Check{Name: "dynamodb", Probe: func(context.Context) error { return nil }})
	tests := []struct {
		name    string
		path    string
		handler http.Handler
		status  int
	}{
		{"live", "/healthz", health.LiveHandler(), 200},
		{"ready", "/readyz", up.ReadyHandler(), 200},
		{"not ready", "/readyz", down.ReadyHandler(), 503},
		{"metrics", "/metrics", metrics.Handler(metrics.NewRegistry("openapi_test")), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			tt.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if err := openapi.ValidateResponse(http.MethodGet, tt.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes()); err != nil {
				t.Error(err)
			}
		})
	}
}

var paramPattern = regexp.MustCompile(`\{([^}]+)\}`)

// engine returns a Gin engine with the given routes ("METHOD /path/:param") and a no-op handler.
func engine(tb testing.TB, routes []string) *gin.Engine {
	tb.Helper()
	e := gin.New()
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		e.Handle(method, path, func(*gin.Context) {})
	}
	return e
}

func documentedGinRoutes(tb testing.TB, service string) []string {
	tb.Helper()
	routes, err := openapi.Routes(service)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, r := range routes {
		if !r.Operational {
			out = append(out, r.Method+" "+paramPattern.ReplaceAllString(r.Path, ":$1"))
		}
	}
	return out
}

func TestCheckRoutes(t *testing.T) {
	t.Parallel()
	gin.SetMode(gin.ReleaseMode)
	writer := documentedGinRoutes(t, openapi.ServiceWriter)
	without := func(routes []string, drop string) []string {
		return slices.DeleteFunc(slices.Clone(routes), func(r string) bool { return r == drop })
	}
	tests := []struct {
		name    string
		service string
		routes  []string
		want    []error
		mention []string
	}{
		{"all documented", openapi.ServiceWriter, writer, nil, nil},
		{"operational routes in Gin too", openapi.ServiceWriter, append(slices.Clone(writer), "GET /healthz"), nil, nil},
		{"missing", openapi.ServiceWriter, without(writer, "DELETE /v1/rooms/:room"),
			[]error{openapi.ErrNotRegistered}, []string{"DELETE /v1/rooms/{room}"}},
		{"extra", openapi.ServiceWriter, append(slices.Clone(writer), "PUT /v1/rooms/:room"),
			[]error{openapi.ErrUndocumented}, []string{"PUT /v1/rooms/{room}"}},
		{"another service's route", openapi.ServiceWriter, append(slices.Clone(writer), "GET /v1/rooms/:room"),
			[]error{openapi.ErrUndocumented}, []string{"GET /v1/rooms/{room}"}},
		{"missing and extra", openapi.ServiceWriter, append(without(writer, "POST /v1/rooms/:room/rename"), "POST /v1/rooms/:room/archive"),
			[]error{openapi.ErrNotRegistered, openapi.ErrUndocumented}, []string{"POST /v1/rooms/{room}/rename", "POST /v1/rooms/{room}/archive"}},
		{"empty query API", openapi.ServiceQueryAPI, nil,
			[]error{openapi.ErrNotRegistered}, []string{"GET /v1/search", "GET /openapi.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := openapi.CheckRoutes(tt.service, engine(t, tt.routes).Routes())
			if tt.want == nil {
				if err != nil {
					t.Errorf("CheckRoutes = %v, want nil", err)
				}
				return
			}
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("CheckRoutes = %v, want it to wrap %v", err, want)
				}
			}
			for _, m := range tt.mention {
				if err == nil || !strings.Contains(err.Error(), m) {
					t.Errorf("CheckRoutes = %v, want it to name %s", err, m)
				}
			}
		})
	}
	if err := openapi.CheckRoutes("relay", nil); err == nil {
		t.Error("CheckRoutes(relay) = nil, want an unknown service")
	}
}

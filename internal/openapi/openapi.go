// Package openapi holds the OpenAPI 3.1 document of the writer and the query API (the HTTP contract of
// DESIGN.md) and the checks that keep it true: the routes each Gin engine registers against the operations the
// document gives that service, and any answer a service gives against the schema documented for it.
//
// Each operation names the service that serves it in the extension x-service: "writer", "queryapi", or a list
// of both for the operational endpoints (/healthz, /readyz, /metrics), which httpserver.Mux serves outside Gin.
package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed openapi.json
var document []byte

// The services the document describes, as x-service names them.
const (
	// ServiceWriter is the command side (port 8080).
	ServiceWriter = "writer"
	// ServiceQueryAPI is the query side (port 8081).
	ServiceQueryAPI = "queryapi"
)

var (
	// ErrUndocumented is wrapped by the errors about what the document lacks: an operation, a response status
	// or media type, or a route an engine registers.
	ErrUndocumented = errors.New("not in the OpenAPI document")
	// ErrNotRegistered is wrapped by CheckRoutes' errors about an operation the engine does not register.
	ErrNotRegistered = errors.New("documented but not registered")
	// ErrInvalidBody is wrapped by ValidateResponse's errors about a body that does not match its schema.
	ErrInvalidBody = errors.New("body does not match the OpenAPI document")
)

// operationalPaths are the paths httpserver.Mux answers before the Gin engine sees the request.
var operationalPaths = []string{"/healthz", "/readyz", "/metrics"}

// schemaBase is the URL the document is compiled under; nothing is ever fetched from it.
const schemaBase = "https://cqrses-aws.invalid/openapi.json"

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Route is one documented operation: its method (upper case), its path template (/v1/rooms/{room}), and
// whether it is operational, i.e. served outside the Gin engine.
type Route struct {
	Method      string
	Path        string
	Operational bool
}

// String returns the route as "METHOD /path/{param}"; it cannot fail.
func (r Route) String() string { return r.Method + " " + r.Path }

// operation is a documented operation with its compiled response schemas.
type operation struct {
	Route
	services []string
	// responses maps a status key ("200", "4XX", "default") to its media types; a nil schema accepts any body.
	responses map[string]map[string]*jsonschema.Schema
}

type spec struct {
	ops []*operation
}

// Document returns the embedded OpenAPI document, as served at GET /openapi.json; callers must not modify it.
func Document() []byte { return document }

// Check parses the document and compiles every schema in it; it returns every problem found, joined, or nil.
func Check() error {
	_, err := load()
	return err
}

// Routes returns the operations the document gives service, sorted by path (methods in the order get, put,
// post, delete, …); it fails when service
// is not one the document knows or the document does not load.
func Routes(service string) ([]Route, error) {
	s, err := load()
	if err != nil {
		return nil, err
	}
	if service != ServiceWriter && service != ServiceQueryAPI {
		return nil, fmt.Errorf("unknown service %q (want %s or %s)", service, ServiceWriter, ServiceQueryAPI)
	}
	var routes []Route
	for _, op := range s.ops {
		if slices.Contains(op.services, service) {
			routes = append(routes, op.Route)
		}
	}
	return routes, nil
}

// GinToOpenAPI returns the OpenAPI path template of a Gin route pattern (/v1/rooms/:room becomes
// /v1/rooms/{room}, a catch-all *rest becomes {rest}); it cannot fail.
func GinToOpenAPI(pattern string) string {
	segs := strings.Split(pattern, "/")
	for i, seg := range segs {
		if len(seg) > 1 && (seg[0] == ':' || seg[0] == '*') {
			segs[i] = "{" + seg[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

// CheckRoutes compares the routes of service's Gin engine with the document: every route must be documented
// for service, and every operation documented for it must be registered, except the operational ones served
// outside Gin. It returns every mismatch joined (each wrapping ErrUndocumented or ErrNotRegistered), or nil.
func CheckRoutes(service string, routes gin.RoutesInfo) error {
	documented, err := Routes(service)
	if err != nil {
		return err
	}
	want := map[Route]bool{}
	for _, r := range documented {
		want[Route{Method: r.Method, Path: r.Path}] = r.Operational
	}
	var errs []error
	got := map[Route]bool{}
	for _, ri := range routes {
		r := Route{Method: ri.Method, Path: GinToOpenAPI(ri.Path)}
		got[r] = true
		if _, ok := want[r]; !ok {
			errs = append(errs, fmt.Errorf("%s (Gin %s) is registered: %w for %s", r, ri.Path, ErrUndocumented, service))
		}
	}
	for _, r := range documented {
		if !r.Operational && !got[Route{Method: r.Method, Path: r.Path}] {
			errs = append(errs, fmt.Errorf("%s: %w by the %s engine", r, ErrNotRegistered, service))
		}
	}
	return errors.Join(errs...)
}

// ValidateResponse checks one answer against the document: the operation (method and path: a Gin pattern, an
// OpenAPI template or a concrete request path, with or without its query), the status, the media type of
// contentType and the body against the schema documented for them. It returns an error wrapping
// ErrUndocumented when the document has no such operation, status or media type, and ErrInvalidBody when the
// body does not match (with the schema's complaints).
func ValidateResponse(method, path string, status int, contentType string, body []byte) error {
	s, err := load()
	if err != nil {
		return err
	}
	op := s.find(strings.ToUpper(method), path)
	if op == nil {
		return fmt.Errorf("%s %s: operation %w", strings.ToUpper(method), path, ErrUndocumented)
	}
	code := strconv.Itoa(status)
	content, ok := op.responses[code]
	if !ok && len(code) == 3 {
		content, ok = op.responses[code[:1]+"XX"]
	}
	if !ok {
		content, ok = op.responses["default"]
	}
	if !ok {
		return fmt.Errorf("%s: status %d %w", op.Route, status, ErrUndocumented)
	}
	at := fmt.Sprintf("%s %d", op.Route, status)
	if len(content) == 0 {
		if len(body) > 0 {
			return fmt.Errorf("%s: a body of %d bytes where none is documented: %w", at, len(body), ErrInvalidBody)
		}
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("%s: Content-Type %q: %w", at, contentType, ErrUndocumented)
	}
	sch, ok := lookupMedia(content, mediaType)
	if !ok {
		return fmt.Errorf("%s: media type %s %w (documented: %s)", at, mediaType, ErrUndocumented,
			strings.Join(sortedKeys(content), ", "))
	}
	if sch == nil {
		return nil
	}
	var instance any = string(body)
	if isJSON(mediaType) {
		instance, err = jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("%s: body is not JSON: %v: %w", at, err, ErrInvalidBody)
		}
	}
	if err := sch.Validate(instance); err != nil {
		return fmt.Errorf("%s %s: %w: %w", at, mediaType, ErrInvalidBody, err)
	}
	return nil
}

// find returns the operation for method and path: its template exactly, else the template a concrete path
// matches, literal segments winning over parameters (POST /v1/accounts/me/rename is not /v1/accounts/{account}).
func (s *spec) find(method, path string) *operation {
	path, _, _ = strings.Cut(path, "?")
	tmpl := GinToOpenAPI(path)
	var best *operation
	var bestScore []bool
	for _, op := range s.ops {
		if op.Method != method {
			continue
		}
		if op.Path == tmpl {
			return op
		}
		if score, ok := match(op.Path, path); ok && (best == nil || better(score, bestScore)) {
			best, bestScore = op, score
		}
	}
	return best
}

// match reports whether path fits template and, per segment, whether it matched a literal.
func match(template, path string) ([]bool, bool) {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return nil, false
	}
	literal := make([]bool, len(ts))
	for i, t := range ts {
		switch {
		case t == ps[i]:
			literal[i] = true
		case strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") && ps[i] != "":
		default:
			return nil, false
		}
	}
	return literal, true
}

// better prefers the match whose first differing segment is a literal.
func better(a, b []bool) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i]
		}
	}
	return false
}

func lookupMedia(content map[string]*jsonschema.Schema, mediaType string) (*jsonschema.Schema, bool) {
	major, _, _ := strings.Cut(mediaType, "/")
	for _, key := range []string{mediaType, major + "/*", "*/*"} {
		if sch, ok := content[key]; ok {
			return sch, true
		}
	}
	return nil, false
}

func isJSON(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// load parses and compiles the document once; every later call gets the same answer.
var load = sync.OnceValues(func() (*spec, error) { return parse(document) })

// The shapes of the document that the checks read; everything else is left to the schema compiler.
type (
	rawOperation struct {
		Service   json.RawMessage            `json:"x-service"`
		Responses map[string]json.RawMessage `json:"responses"`
	}
	rawDocument struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	rawResponse struct {
		Ref     string                     `json:"$ref"`
		Content map[string]json.RawMessage `json:"content"`
	}
)

// parse reads doc, checks its x-service marks and compiles the schemas of every response, request body and
// component; it returns every problem joined.
func parse(doc []byte) (*spec, error) {
	var raw rawDocument
	if err := json.Unmarshal(doc, &raw); err != nil {
		return nil, fmt.Errorf("parse openapi.json: %w", err)
	}
	if !strings.HasPrefix(raw.OpenAPI, "3.1.") {
		return nil, fmt.Errorf("openapi.json is OpenAPI %q, want 3.1.x", raw.OpenAPI)
	}
	tree, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("parse openapi.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(schemaBase, tree); err != nil {
		return nil, fmt.Errorf("add openapi.json: %w", err)
	}
	p := &parser{c: c, tree: tree}

	s := &spec{}
	for _, path := range sortedKeys(raw.Paths) {
		item := raw.Paths[path]
		for _, m := range methods {
			if body, ok := item[m]; ok {
				if op := p.operation(path, m, body); op != nil {
					s.ops = append(s.ops, op)
				}
			}
		}
	}
	for _, name := range sortedKeys(raw.Components.Schemas) {
		p.compile("/components/schemas/" + escape(name))
	}
	return s, errors.Join(p.errs...)
}

type parser struct {
	c    *jsonschema.Compiler
	tree any
	errs []error
}

func (p *parser) fail(format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

func (p *parser) operation(path, method string, body json.RawMessage) *operation {
	r := Route{Method: strings.ToUpper(method), Path: path, Operational: slices.Contains(operationalPaths, path)}
	var raw rawOperation
	if err := json.Unmarshal(body, &raw); err != nil {
		p.fail("%s: %w", r, err)
		return nil
	}
	services, err := parseServices(raw.Service)
	if err != nil {
		p.fail("%s: x-service: %w", r, err)
	}
	op := &operation{Route: r, services: services, responses: map[string]map[string]*jsonschema.Schema{}}
	ptr := "/paths/" + escape(path) + "/" + method
	for _, status := range sortedKeys(raw.Responses) {
		op.responses[status] = p.response(r, ptr+"/responses/"+escape(status), raw.Responses[status])
	}
	if len(op.responses) == 0 {
		p.fail("%s: no responses", r)
	}
	// Request bodies are not validated here, but their schemas must compile all the same.
	if node, err := resolve(p.tree, ptr+"/requestBody/content"); err == nil {
		if content, ok := node.(map[string]any); ok {
			for _, mt := range sortedKeys(content) {
				if _, err := resolve(p.tree, ptr+"/requestBody/content/"+escape(mt)+"/schema"); err == nil {
					p.compile(ptr + "/requestBody/content/" + escape(mt) + "/schema")
				}
			}
		}
	}
	return op
}

// parseServices reads x-service: one service name or a list of them.
func parseServices(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 {
		return nil, errors.New("missing")
	}
	var one string
	var many []string
	if err := json.Unmarshal(raw, &one); err == nil {
		many = []string{one}
	} else if err := json.Unmarshal(raw, &many); err != nil {
		return nil, errors.New("must be a service name or a list of them")
	}
	if len(many) == 0 {
		return nil, errors.New("empty")
	}
	for _, s := range many {
		if s != ServiceWriter && s != ServiceQueryAPI {
			return nil, fmt.Errorf("unknown service %q", s)
		}
	}
	return many, nil
}

// response compiles the schemas of one response, following a $ref to components/responses.
func (p *parser) response(r Route, ptr string, body json.RawMessage) map[string]*jsonschema.Schema {
	var raw rawResponse
	if err := json.Unmarshal(body, &raw); err != nil {
		p.fail("%s: response %s: %w", r, ptr, err)
		return nil
	}
	if ref := raw.Ref; ref != "" {
		target, ok := strings.CutPrefix(ref, "#")
		node, err := resolve(p.tree, target)
		if !ok || err != nil {
			p.fail("%s: response $ref %s does not resolve", r, ref)
			return nil
		}
		b, _ := json.Marshal(node)
		raw = rawResponse{}
		if err := json.Unmarshal(b, &raw); err != nil || raw.Ref != "" {
			p.fail("%s: response %s: not a response object (%v)", r, ref, err)
			return nil
		}
		ptr = target
	}
	content := map[string]*jsonschema.Schema{}
	for _, mt := range sortedKeys(raw.Content) {
		schemaPtr := ptr + "/content/" + escape(mt) + "/schema"
		if _, err := resolve(p.tree, schemaPtr); err != nil {
			content[mt] = nil
			continue
		}
		content[mt] = p.compile(schemaPtr)
	}
	return content
}

func (p *parser) compile(ptr string) *jsonschema.Schema {
	sch, err := p.c.Compile(schemaBase + "#" + ptr)
	if err != nil {
		p.fail("compile %s: %w", ptr, err)
		return nil
	}
	return sch
}

// escape encodes one JSON pointer token (RFC 6901).
func escape(token string) string {
	return strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
}

// resolve follows a JSON pointer ("" or "/a/b") through a decoded document.
func resolve(doc any, ptr string) (any, error) {
	if ptr == "" {
		return doc, nil
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, fmt.Errorf("pointer %q does not start with /", ptr)
	}
	node := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch n := node.(type) {
		case map[string]any:
			v, ok := n[tok]
			if !ok {
				return nil, fmt.Errorf("pointer %q: no %q", ptr, tok)
			}
			node = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil, fmt.Errorf("pointer %q: no index %q", ptr, tok)
			}
			node = n[i]
		default:
			return nil, fmt.Errorf("pointer %q: %q is inside a scalar", ptr, tok)
		}
	}
	return node, nil
}

package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
)

// Var is one environment variable a configuration struct reads: its name, its tag default (empty when it has
// none; a default filled later by ApplyDefaults is not seen) and whether it holds a Secret.
type Var struct {
	Name    string `json:"name"`
	Default string `json:"default,omitempty"`
	Secret  bool   `json:"secret,omitempty"`
}

// Manifest is the list of environment variables of one service, as stored in deploy/env/<service>.json: the
// contract that docker-compose.yml and the infrastructure code are checked against.
type Manifest struct {
	Service string `json:"service"`
	Vars    []Var  `json:"vars"`
}

var secretType = reflect.TypeFor[Secret]()

// Vars returns every environment variable cfg (a struct or a pointer to one) reads, nested structs included
// with their envPrefix, sorted by name; a name read by two fields is listed once, with the first field's
// default. It reads the types only, so a zero value describes a service fully; it returns nil for a non-struct.
func Vars(cfg any) []Var {
	t := reflect.TypeOf(cfg)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	w := varWalker{seen: map[string]bool{}, walking: map[reflect.Type]bool{}}
	w.collect(t, "")
	vars := w.vars
	sort.Slice(vars, func(i, j int) bool { return vars[i].Name < vars[j].Name })
	return vars
}

// varWalker collects the variables of a struct type: vars in the order met, seen their names, walking the
// struct types on the current path.
type varWalker struct {
	vars    []Var
	seen    map[string]bool
	walking map[reflect.Type]bool
}

// collect appends the variables of struct type t, each name prefixed with prefix, following the rules of
// the env library Load uses: a field with an env tag is a variable, a struct field is walked with its envPrefix
// (a pointer to a struct as if it were set), `env:"-"` and unexported fields are skipped.
func (w *varWalker) collect(t reflect.Type, prefix string) {
	if w.walking[t] {
		return // a struct that contains itself through a pointer
	}
	w.walking[t] = true
	defer delete(w.walking, t)
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		if name == "-" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if full := prefix + name; name != "" && !w.seen[full] {
			w.seen[full] = true
			w.vars = append(w.vars, Var{Name: full, Default: f.Tag.Get("envDefault"), Secret: ft == secretType})
		}
		if ft.Kind() == reflect.Struct {
			w.collect(ft, prefix+f.Tag.Get("envPrefix"))
		}
	}
}

// RuntimeVars are the Go runtime's own variables that a deployment sets for every binary, beside what its
// configuration struct reads: GOMEMLIMIT, the soft memory limit that keeps a container's heap within its task's
// memory (the collector otherwise lets the heap grow to twice what is live).
var RuntimeVars = []Var{{Name: "GOMEMLIMIT"}}

// NewManifest returns the manifest of service, whose configuration struct is cfg (see Vars), with RuntimeVars.
func NewManifest(service string, cfg any) Manifest {
	vars := append(Vars(cfg), RuntimeVars...)
	sort.Slice(vars, func(i, j int) bool { return vars[i].Name < vars[j].Name })
	return Manifest{Service: service, Vars: vars}
}

// JSON returns the manifest as stored in deploy/env: indented, one variable per line, ending in a newline.
func (m Manifest) JSON() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n  \"service\": %s,\n  \"vars\": [", quote(m.Service))
	for i, v := range m.Vars {
		line, _ := json.Marshal(v) // a struct of strings and a bool always marshals
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    ")
		b.Write(line)
	}
	if len(m.Vars) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("]\n}\n")
	return b.Bytes()
}

// Names returns the set of the manifest's variable names.
func (m Manifest) Names() map[string]bool {
	names := make(map[string]bool, len(m.Vars))
	for _, v := range m.Vars {
		names[v.Name] = true
	}
	return names
}

// ReadManifest reads a manifest file such as deploy/env/writer.json; it returns an error naming the path when
// the file cannot be read or parsed, or names no service.
func ReadManifest(path string) (Manifest, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Manifest{}, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("parse manifest %s: %w", path, err)
	}
	if m.Service == "" {
		return Manifest{}, fmt.Errorf("manifest %s names no service", path)
	}
	return m, nil
}

func quote(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

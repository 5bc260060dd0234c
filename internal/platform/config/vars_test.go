package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// varsConfig has every shape Vars must understand; its blocks are local so that changes to the shared blocks
// do not change this test.
type varsConfig struct {
	HTTP     httpVars
	Search   searchVars    `envPrefix:"READ_"`
	Nested   *nestedVars   `envPrefix:"N_"`
	Token    config.Secret `env:"TOKEN,required"`
	Skipped  string        `env:"-"`
	Untagged string
	hidden   string `env:"HIDDEN"` // unexported: Load does not read it either
	Again    string `env:"LOG_LEVEL" envDefault:"second"`
	Log      logVars
	Wait     time.Duration `env:"WAIT" envDefault:"1s"`
}

type httpVars struct {
	Addr    string        `env:"HTTP_ADDR"`
	Timeout time.Duration `env:"HTTP_TIMEOUT" envDefault:"5s"`
}

type searchVars struct {
	URL      string        `env:"URL"`
	Password config.Secret `env:"PASSWORD"`
	Flags    []string      `env:"FLAGS" envSeparator:","`
}

type logVars struct {
	Level string `env:"LOG_LEVEL" envDefault:"info"`
}

type nestedVars struct {
	Name string `env:"NAME" envDefault:"x"`
	Self *nestedVars
}

func TestVars(t *testing.T) {
	t.Parallel()
	want := []config.Var{
		{Name: "HTTP_ADDR"},
		{Name: "HTTP_TIMEOUT", Default: "5s"},
		{Name: "LOG_LEVEL", Default: "second"},
		{Name: "N_NAME", Default: "x"},
		{Name: "READ_FLAGS"},
		{Name: "READ_PASSWORD", Secret: true},
		{Name: "READ_URL"},
		{Name: "TOKEN", Secret: true},
		{Name: "WAIT", Default: "1s"},
	}
	tests := []struct {
		name string
		cfg  any
		want []config.Var
	}{
		{"value", varsConfig{hidden: "unused"}, want},
		{"pointer", &varsConfig{}, want},
		{"nil pointer", (*varsConfig)(nil), want},
		{"not a struct", 42, nil},
		{"nil", nil, nil},
		{"no vars", struct{ A int }{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := config.Vars(tt.cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Vars =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

// TestVarsMatchLoad checks Vars against what Load really reads: every variable Vars lists changes the loaded
// struct when set, so no name is made up.
func TestVarsMatchLoad(t *testing.T) {
	t.Parallel()
	type inner struct {
		Host string        `env:"HOST"`
		Pass config.Secret `env:"PASS"`
	}
	type probe struct {
		Inner inner    `envPrefix:"IN_"`
		List  []string `env:"LIST" envSeparator:","`
		Name  string   `env:"NAME" envDefault:"n"`
	}
	zero, err := config.LoadFrom[probe]("", nil)
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	vars := config.Vars(probe{})
	if len(vars) != 4 {
		t.Fatalf("Vars listed %d variables, want 4: %v", len(vars), vars)
	}
	for _, v := range vars {
		got, err := config.LoadFrom[probe]("", map[string]string{v.Name: "set"})
		if err != nil {
			t.Fatalf("LoadFrom with %s: %v", v.Name, err)
		}
		if reflect.DeepEqual(got, zero) {
			t.Errorf("%s is listed by Vars but Load does not read it", v.Name)
		}
	}
}

func TestManifestRoundTrip(t *testing.T) {
	t.Parallel()
	m := config.NewManifest("svc", varsConfig{})
	path := filepath.Join(t.TempDir(), "svc.json")
	if err := os.WriteFile(path, m.JSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := config.ReadManifest(path)
	if err != nil {
		t.Fatalf("ReadManifest: %v", err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("ReadManifest = %+v, want %+v", got, m)
	}
	if names := got.Names(); !names["TOKEN"] || names["HIDDEN"] || len(names) != len(m.Vars) {
		t.Errorf("Names = %v", names)
	}
	if s := string(m.JSON()); !strings.Contains(s, "\n    {\"name\":\"TOKEN\",\"secret\":true},\n") ||
		!strings.HasSuffix(s, "]\n}\n") {
		t.Errorf("JSON is not one variable per line:\n%s", s)
	}
}

func TestReadManifestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content, want string
	}{
		{"not json", "{", "parse manifest"},
		{"unknown field", `{"service":"a","vars":[{"name":"X","typo":1}]}`, "typo"},
		{"no service", `{"vars":[]}`, "names no service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "m.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := config.ReadManifest(path); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadManifest error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := config.ReadManifest(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("ReadManifest of a missing file: want an error")
	}
}

package compose_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// load reads a compose file as `docker compose` would, offline: schema validation, interpolation (from an empty
// environment, so defaults apply), normalization and the consistency checks, with no .env file.
func load(ctx context.Context, path string) (*types.Project, error) {
	opts, err := cli.NewProjectOptions([]string{path}, cli.WithWorkingDirectory(filepath.Dir(path)))
	if err != nil {
		return nil, fmt.Errorf("project options: %w", err)
	}
	p, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return p, nil
}

// checker collects every disagreement between a compose project and the repository at root.
type checker struct {
	p         *types.Project
	root      string
	manifests map[string]config.Manifest // by compose service
	problems  []string
}

func (c *checker) failf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// check returns every problem of project p against the repository at root; none means the file is right.
func check(p *types.Project, root string) []string {
	c := &checker{p: p, root: root, manifests: map[string]config.Manifest{}}
	c.services()
	for _, cmd := range commands {
		s, ok := p.Services[cmd.service]
		if !ok {
			continue
		}
		m, err := config.ReadManifest(filepath.Join(root, cmd.manifest))
		if err != nil {
			c.failf("%s: %v", cmd.service, err)
			continue
		}
		c.manifests[cmd.service] = m
		c.build(cmd, s)
		c.environment(cmd, s, m)
		c.listener(cmd, s)
		c.dependencies(cmd, s)
	}
	for name, srv := range servers {
		if s, ok := p.Services[name]; ok {
			c.server(name, srv, s)
		}
	}
	for _, s := range p.Services {
		c.generic(s)
	}
	c.shared()
	c.postgresCredentials()
	return c.problems
}

// services checks that the project runs exactly the commands and the servers.
func (c *checker) services() {
	want := map[string]bool{}
	for _, cmd := range commands {
		want[cmd.service] = true
	}
	for name := range servers {
		want[name] = true
	}
	for name := range want {
		if _, ok := c.p.Services[name]; !ok {
			c.failf("service %s is missing", name)
		}
	}
	for name := range c.p.Services {
		if !want[name] {
			c.failf("service %s is unknown to this test: add it to services_test.go", name)
		}
	}
}

// build checks that a command is built by deploy/Dockerfile from the repository root, for its own directory.
func (c *checker) build(cmd command, s types.ServiceConfig) {
	b := s.Build
	if b == nil {
		c.failf("%s: no build section", cmd.service)
		return
	}
	if ctx := b.Context; filepath.Clean(ctx) != filepath.Clean(c.p.WorkingDir) && filepath.Clean(ctx) != "." {
		c.failf("%s: build context %s is not the repository root", cmd.service, ctx)
	}
	if b.Dockerfile != "deploy/Dockerfile" {
		c.failf("%s: dockerfile %q, want deploy/Dockerfile", cmd.service, b.Dockerfile)
	}
	arg := b.Args["SERVICE"]
	if arg == nil {
		c.failf("%s: no SERVICE build argument", cmd.service)
		return
	}
	if *arg != cmd.dir {
		c.failf("%s: build argument SERVICE=%s, want %s", cmd.service, *arg, cmd.dir)
	}
	if !isMainPackage(filepath.Join(c.root, *arg)) {
		c.failf("%s: build argument SERVICE=%s is not a directory with a main package", cmd.service, *arg)
	}
	if !dockerignoreKeeps(filepath.Join(c.root, "deploy", "Dockerfile.dockerignore"), *arg) {
		c.failf("%s: deploy/Dockerfile.dockerignore does not keep !%s/ in the build context", cmd.service, *arg)
	}
}

// environment checks a command's variables: each one its configuration reads, the needed ones set, and the
// endpoints pointing at a server of the project, on a port it serves, that the command starts after.
func (c *checker) environment(cmd command, s types.ServiceConfig, m config.Manifest) {
	names := m.Names()
	for k, v := range s.Environment {
		if !names[k] {
			c.failf("%s: %s is not a variable of %s (%s)", cmd.service, k, m.Service, cmd.manifest)
		}
		if v == nil {
			c.failf("%s: %s has no value (it would be taken from the host's environment)", cmd.service, k)
		}
	}
	for _, k := range cmd.needs {
		if v := s.Environment[k]; v == nil || *v == "" {
			c.failf("%s: %s is not set", cmd.service, k)
		}
	}
	for _, k := range endpointVars {
		if v := s.Environment[k]; v != nil && *v != "" {
			c.endpoint(cmd.service, s, k, *v)
		}
	}
}

// endpoint checks that variable k of service s names servers of the project on ports they serve.
func (c *checker) endpoint(service string, s types.ServiceConfig, k, v string) {
	var hostPorts []string
	if k == "KAFKA_BROKERS" {
		hostPorts = strings.Split(v, ",")
	} else {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			c.failf("%s: %s is not an absolute URL", service, k)
			return
		}
		hostPorts = []string{u.Host}
	}
	for _, hp := range hostPorts {
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			c.failf("%s: %s: %q has no port", service, k, hp)
			continue
		}
		target, ok := c.p.Services[host]
		if !ok {
			c.failf("%s: %s points at %s, which is no service of the project (inside a container, "+
				"localhost is the container itself)", service, k, host)
			continue
		}
		if !slices.Contains(containerPorts(target), port) {
			c.failf("%s: %s points at %s:%s, a port %s does not serve (it serves %v)", service, k, host, port,
				host, containerPorts(target))
		}
		if _, ok := s.DependsOn[host]; !ok {
			c.failf("%s: %s points at %s, which it does not depend on", service, k, host)
		}
	}
}

// listener checks a command's listen address, published port and health check.
func (c *checker) listener(cmd command, s types.ServiceConfig) {
	if cmd.port == 0 {
		if len(s.Ports) > 0 {
			c.failf("%s: a one-shot command publishes no port", cmd.service)
		}
		if s.Restart != "" && s.Restart != "no" {
			c.failf("%s: restart %q: a one-shot command must not restart", cmd.service, s.Restart)
		}
		return
	}
	want := strconv.Itoa(int(cmd.port))
	addr := s.Environment["HTTP_ADDR"]
	if addr == nil {
		return // reported with the needed variables
	}
	host, port, err := net.SplitHostPort(*addr)
	switch {
	case err != nil:
		c.failf("%s: HTTP_ADDR %q is not host:port", cmd.service, *addr)
	case host != "" && host != "0.0.0.0" && host != "::":
		c.failf("%s: HTTP_ADDR %q listens on %s only: the published port could not reach it", cmd.service, *addr, host)
	}
	if len(s.Ports) != 1 {
		c.failf("%s: publishes %d ports, want one (%s)", cmd.service, len(s.Ports), want)
	} else if pc := s.Ports[0]; pc.Published != want || strconv.Itoa(int(pc.Target)) != port {
		c.failf("%s: publishes %s:%d, want %s:%s (the local port, to HTTP_ADDR's)", cmd.service, pc.Published,
			pc.Target, want, port)
	}
	hc := s.HealthCheck
	wantTest := []string{"CMD", "/probe", "http://127.0.0.1:" + port + "/readyz"}
	if hc == nil || hc.Disable || !slices.Equal(hc.Test, wantTest) {
		c.failf("%s: health check must be %q", cmd.service, wantTest)
	}
}

// dependencies checks that a command starts after the services it needs, with their conditions.
func (c *checker) dependencies(cmd command, s types.ServiceConfig) {
	for dep, cond := range cmd.after {
		got, ok := s.DependsOn[dep]
		if !ok {
			c.failf("%s: does not depend on %s", cmd.service, dep)
		} else if got.Condition != cond {
			c.failf("%s: depends on %s with condition %s, want %s", cmd.service, dep, got.Condition, cond)
		}
	}
}

// server checks a server: an image, a health check, and its port published where deploy/local serves it.
func (c *checker) server(name string, srv server, s types.ServiceConfig) {
	if s.Image == "" {
		c.failf("%s: no image", name)
	}
	if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
		c.failf("%s: no health check", name)
	}
	want := strconv.Itoa(int(srv.hostPort))
	for _, pc := range s.Ports {
		if pc.Target == srv.port && pc.Published == want {
			return
		}
	}
	c.failf("%s: does not publish its port %d on %s as deploy/local does", name, srv.port, want)
}

// generic checks what holds for every service: loopback-only ports, conditions that can be met, bind mounts of
// files in the repository.
func (c *checker) generic(s types.ServiceConfig) {
	for _, pc := range s.Ports {
		if pc.HostIP != "127.0.0.1" {
			c.failf("%s: port %s:%d is published on %q, not on 127.0.0.1 only", s.Name, pc.Published, pc.Target, pc.HostIP)
		}
	}
	for dep, d := range s.DependsOn {
		target := c.p.Services[dep]
		switch d.Condition {
		case healthy:
			if target.HealthCheck == nil || target.HealthCheck.Disable {
				c.failf("%s: waits for %s to be healthy, but %s has no health check", s.Name, dep, dep)
			}
		case completed:
			if len(target.Ports) > 0 || (target.Restart != "" && target.Restart != "no") {
				c.failf("%s: waits for %s to complete, but %s is not a one-shot command", s.Name, dep, dep)
			}
		}
	}
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		rel, err := filepath.Rel(c.p.WorkingDir, v.Source)
		if err != nil || strings.HasPrefix(rel, "..") {
			c.failf("%s: bind mount %s is outside the repository", s.Name, v.Source)
			continue
		}
		if _, err := os.Stat(filepath.Join(c.root, rel)); err != nil {
			c.failf("%s: bind mount %s: %v", s.Name, rel, err)
		}
	}
}

// shared checks that the commands reading a shared variable see one value (set, or the manifest's default).
func (c *checker) shared() {
	for _, k := range sharedVars {
		values := map[string][]string{}
		for _, cmd := range commands {
			m, ok := c.manifests[cmd.service]
			if !ok {
				continue
			}
			i := slices.IndexFunc(m.Vars, func(v config.Var) bool { return v.Name == k })
			if i < 0 {
				continue
			}
			v := m.Vars[i].Default
			if set := c.p.Services[cmd.service].Environment[k]; set != nil {
				v = *set
			}
			if v != "" {
				values[v] = append(values[v], cmd.service)
			}
		}
		if len(values) > 1 {
			c.failf("%s differs between services: %v", k, values)
		}
	}
}

// postgresCredentials checks that POSTGRES_URL logs in as the postgres service's user, to its database.
func (c *checker) postgresCredentials() {
	pg, ok := c.p.Services["postgres"]
	if !ok {
		return
	}
	get := func(k string) string {
		if v := pg.Environment[k]; v != nil {
			return *v
		}
		return ""
	}
	for _, cmd := range commands {
		v := c.p.Services[cmd.service].Environment["POSTGRES_URL"]
		if v == nil {
			continue
		}
		u, err := url.Parse(*v)
		if err != nil {
			continue // reported as an endpoint
		}
		pw, _ := u.User.Password()
		if u.User.Username() != get("POSTGRES_USER") || pw != get("POSTGRES_PASSWORD") ||
			strings.TrimPrefix(u.Path, "/") != get("POSTGRES_DB") {
			c.failf("%s: POSTGRES_URL's user, password or database is not the postgres service's", cmd.service)
		}
	}
}

// containerPorts returns the ports a service serves inside the project's network: published targets and
// exposed ports.
func containerPorts(s types.ServiceConfig) []string {
	var ports []string
	for _, pc := range s.Ports {
		ports = append(ports, strconv.Itoa(int(pc.Target)))
	}
	for _, e := range s.Expose {
		ports = append(ports, strings.TrimSuffix(e, "/tcp"))
	}
	return ports
}

// isMainPackage reports whether dir holds a Go file of package main.
func isMainPackage(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err == nil && hasLine(string(raw), "package main") {
			return true
		}
	}
	return false
}

// dockerignoreKeeps reports whether the allow-list ignore file re-includes dir.
func dockerignoreKeeps(path, dir string) bool {
	raw, err := os.ReadFile(path)
	return err == nil && hasLine(string(raw), "!"+dir+"/")
}

func hasLine(text, line string) bool {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == line {
			return true
		}
	}
	return false
}

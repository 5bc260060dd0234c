package search

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/cqrses-aws/pipeline/projectors/projection"

	"github.com/cqrses-aws/pipeline/schemas"
)

// Projection is the search read model: versioned indices "<name>_v<N>" behind the alias "<name>". It is safe
// for concurrent use and keeps no state besides its configuration.
type Projection struct {
	cl  Client
	cfg Config
}

var _ projection.Projection = (*Projection)(nil)

// New returns the projection of cfg (defaults filled) over cl; it fails when cfg is invalid.
func New(cl Client, cfg Config) (*Projection, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("search projection config: %w", err)
	}
	if cl == nil {
		return nil, errors.New("search projection: nil client")
	}
	return &Projection{cl: cl, cfg: cfg}, nil
}

// Name returns the stable alias, which is also the consumer group's stem.
func (p *Projection) Name() string { return p.cfg.Name }

// Version returns the version this code builds.
func (p *Projection) Version() int { return p.cfg.Version }

// Index returns the name of version's index, "<name>_v<version>".
func (p *Projection) Index(version int) string { return projection.TargetName(p.cfg.Name, version) }

// aliasState reads which "<name>_v<N>" indices exist and which of them the alias points at.
func (p *Projection) aliasState(ctx context.Context) (versions []int, live []int, err error) {
	raw, err := p.cl.GetAliases(ctx, p.cfg.Name+"_v*")
	if hasStatus(err, http.StatusNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read aliases of %s: %w", p.cfg.Name, err)
	}
	v, err := fastjson.ParseBytes(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("decode aliases of %s: %w", p.cfg.Name, err)
	}
	obj, err := v.Object()
	if err != nil {
		return nil, nil, fmt.Errorf("decode aliases of %s: %w", p.cfg.Name, err)
	}
	obj.Visit(func(key []byte, idx *fastjson.Value) {
		version, ok := versionOf(p.cfg.Name, string(key))
		if !ok {
			return
		}
		versions = append(versions, version)
		if idx.Exists("aliases", p.cfg.Name) {
			live = append(live, version)
		}
	})
	slices.Sort(versions)
	slices.Sort(live)
	return versions, live, nil
}

// Live returns the version the alias points at; ok is false when it points at none. It fails when the alias
// points at several indices, which Switch never leaves behind.
func (p *Projection) Live(ctx context.Context) (version int, ok bool, err error) {
	_, live, err := p.aliasState(ctx)
	switch {
	case err != nil:
		return 0, false, err
	case len(live) == 0:
		return 0, false, nil
	case len(live) > 1:
		return 0, false, fmt.Errorf("alias %s points at versions %v", p.cfg.Name, live)
	}
	return live[0], true, nil
}

// Versions returns the versions whose indices exist, ascending.
func (p *Projection) Versions(ctx context.Context) ([]int, error) {
	versions, _, err := p.aliasState(ctx)
	return versions, err
}

// Open creates version's index when it does not exist and returns its Target. An existing index is used as it
// is: a change of index.json needs a new version.
func (p *Projection) Open(ctx context.Context, version int) (projection.Target, error) {
	return p.OpenTarget(ctx, version)
}

// OpenTarget is Open with the concrete type, for callers that want the Target's extra methods.
func (p *Projection) OpenTarget(ctx context.Context, version int) (*Target, error) {
	if version < 1 {
		return nil, fmt.Errorf("open %s: version %d must be at least 1", p.cfg.Name, version)
	}
	index := p.Index(version)
	exists, err := p.cl.IndexExists(ctx, index)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", index, err)
	}
	if !exists {
		err := p.cl.CreateIndex(ctx, index, indexBody)
		// Another process may have created it between the two calls.
		if err != nil && !isAlreadyExists(err) {
			return nil, fmt.Errorf("create %s: %w", index, err)
		}
	}
	return &Target{cl: p.cl, index: index, bulkSize: p.cfg.BulkSize, parallel: p.cfg.BulkParallel,
		maxBody: p.cfg.MaxRequestBytes, states: newStateCache()}, nil
}

// Switch makes version's index live if the alias is on index from (0: on none): it sets the live settings
// (refresh every second, the configured replicas), then moves the alias with ONE _aliases request, which the
// server applies atomically and wholly or not at all: remove it from from's index with must_exist (the
// compare-and-set: the request fails when another process moved the alias meanwhile, and nothing changes), remove
// it from every other "<name>_v*" index, add it to version's. With from 0 there is nothing to compare: two
// processes making a brand-new projection live at once may both add it, which Live reports and the next switch
// repairs.
func (p *Projection) Switch(ctx context.Context, from, version int) error {
	index := p.Index(version)
	fail := func(err error) error { return fmt.Errorf("switch %s from %d to %s: %w", p.cfg.Name, from, index, err) }
	exists, err := p.cl.IndexExists(ctx, index)
	if err != nil {
		return fail(err)
	}
	if !exists {
		return fail(errors.New("the index does not exist"))
	}
	_, live, err := p.aliasState(ctx)
	if err != nil {
		return fail(err)
	}
	if (from == 0 && len(live) > 0) || (from != 0 && !slices.Contains(live, from)) {
		return fail(fmt.Errorf("%w: the alias is on versions %v", projection.ErrSwitchConflict, live))
	}
	if err := p.cl.PutSettings(ctx, index, liveSettings(p.cfg.Replicas)); err != nil {
		return fail(err)
	}
	// The index was built with refresh off: make everything written so far searchable before readers reach
	// it, or the first second after the switch would show them a part of the model.
	if err := p.cl.Refresh(ctx, index); err != nil {
		return fail(err)
	}
	alias := schemas.AppendJSONString(nil, p.cfg.Name)
	var b strings.Builder
	b.WriteString(`{"actions":[`)
	if from != 0 {
		b.WriteString(`{"remove":{"index":`)
		b.Write(schemas.AppendJSONString(nil, p.Index(from)))
		b.WriteString(`,"alias":`)
		b.Write(alias)
		b.WriteString(`,"must_exist":true}},{"remove":{"index":`)
		b.Write(schemas.AppendJSONString(nil, p.cfg.Name+"_v*"))
		b.WriteString(`,"alias":`)
		b.Write(alias)
		b.WriteString(`}},`)
	}
	b.WriteString(`{"add":{"index":`)
	b.Write(schemas.AppendJSONString(nil, index))
	b.WriteString(`,"alias":`)
	b.Write(alias)
	b.WriteString(`}}]}`)
	err = p.cl.UpdateAliases(ctx, []byte(b.String()))
	if hasStatus(err, http.StatusNotFound) {
		return fail(fmt.Errorf("%w: the alias left version %d meanwhile", projection.ErrSwitchConflict, from))
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// Drop deletes version's index; a missing index succeeds, and the live one fails with projection.ErrLive.
func (p *Projection) Drop(ctx context.Context, version int) error {
	_, live, err := p.aliasState(ctx)
	if err != nil {
		return fmt.Errorf("drop %s: %w", p.Index(version), err)
	}
	if slices.Contains(live, version) {
		return fmt.Errorf("drop %s: %w", p.Index(version), projection.ErrLive)
	}
	if err := p.cl.DeleteIndex(ctx, p.Index(version)); err != nil && !hasStatus(err, http.StatusNotFound) {
		return fmt.Errorf("drop %s: %w", p.Index(version), err)
	}
	return nil
}

// isAlreadyExists reports whether err is the server's answer to creating an index that exists.
func isAlreadyExists(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == http.StatusBadRequest &&
		strings.Contains(se.Body, "resource_already_exists_exception")
}

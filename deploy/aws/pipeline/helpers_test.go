package pipeline_test

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/cqrses-aws/pipeline/deploy/aws/pipeline"
)

// testPartitions differs from the default so that a test can tell it was passed through.
const testPartitions = 6

// testProps is the stack every test reads.
var testProps = pipeline.Props{EnvName: "test", Partitions: testPartitions}

var (
	synthOnce sync.Once
	synthed   struct {
		tpl  assertions.Template
		json map[string]any
		err  error
	}
	// jsiiMu serializes the calls into the jsii runtime, which is not safe for concurrent use: tests that call
	// it (the cdk assertions) do not run in parallel and go through check; tests of the template's JSON do.
	jsiiMu sync.Mutex
)

// synth returns the test stack's template, synthesized once for all tests, and its JSON.
func synth(t *testing.T) (assertions.Template, map[string]any) {
	t.Helper()
	synthOnce.Do(func() {
		jsiiMu.Lock()
		defer jsiiMu.Unlock()
		defer func() {
			if r := recover(); r != nil {
				synthed.err = fmt.Errorf("panic: %v", r)
			}
		}()
		dir, err := os.MkdirTemp("", "pipeline-cdk-test-")
		if err != nil {
			synthed.err = err
			return
		}
		defer os.RemoveAll(dir)
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir)})
		st, err := pipeline.NewPipelineStack(app, "Test", testProps)
		if err != nil {
			synthed.err = err
			return
		}
		synthed.tpl = assertions.Template_FromStack(st.Stack, nil)
		synthed.json = *synthed.tpl.ToJSON()
	})
	if synthed.err != nil {
		t.Fatalf("synth: %v", synthed.err)
	}
	return synthed.tpl, synthed.json
}

// check runs one assertion of the cdk's assertions library, which panics when it fails, and reports that as
// a test error.
func check(t *testing.T, what string, f func()) {
	t.Helper()
	jsiiMu.Lock()
	defer jsiiMu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// resources returns the template's resources of type typ by logical id.
func resources(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// props returns a resource's Properties.
func props(res map[string]any) map[string]any {
	p, _ := res["Properties"].(map[string]any)
	return p
}

// list returns v as a list: itself when it is one, else a list of v alone.
func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// obj is a shorthand for the assertions' property maps.
type obj = map[string]any

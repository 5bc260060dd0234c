package pipeline_test

import (
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/deploy/aws/pipeline"
)

func TestPropsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		props   pipeline.Props
		wantErr string
	}{
		{"defaults", pipeline.Props{}, ""},
		{"bad name", pipeline.Props{EnvName: "Prod_1"}, "env name"},
		{"no partitions", pipeline.Props{Partitions: -1}, "partitions must be positive"},
		{"min over max", pipeline.Props{WriterMin: 5, WriterMax: 2}, "task range 5..2"},
		{"odd brokers", pipeline.Props{KafkaBrokers: 3}, "multiples of the two zones"},
		{"one projection", pipeline.Props{Projections: []string{"views"}}, "projections"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.props.WithDefaults()
			err := p.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate() = %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
	if p := (pipeline.Props{EnvName: "prod"}).WithDefaults(); p.Prefix != "chat-prod" || p.Partitions != 12 {
		t.Errorf("defaults: prefix %q partitions %d, want chat-prod and 12", p.Prefix, p.Partitions)
	}
}

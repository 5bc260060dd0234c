package pipeline_test

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestScalingBoundsAndProjectorsAtMostOnePerPartition(t *testing.T) {
	t.Parallel()
	_, tpl := synth(t)
	want := map[string][2]float64{"Writer": {2, 8}, "Relay": {2, 4}, "Projectors": {1, testPartitions}, "Queryapi": {2, 16}}
	got := map[string][2]float64{}
	for _, target := range resources(tpl, "AWS::ApplicationAutoScaling::ScalableTarget") {
		p := props(target)
		// ResourceId joins service/<cluster>/<service name>, the name a GetAtt of the Fargate service.
		ref, _ := json.Marshal(p["ResourceId"])
		for svc := range want {
			if strings.Contains(string(ref), `"`+svc+"Service") {
				got[svc] = [2]float64{p["MinCapacity"].(float64), p["MaxCapacity"].(float64)}
			}
		}
	}
	for svc, bounds := range want {
		if got[svc] != bounds {
			t.Errorf("%s scales within %v, want %v", svc, got[svc], bounds)
		}
	}
}

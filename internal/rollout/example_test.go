package rollout_test

import (
	"fmt"
	"time"

	"github.com/pyship/pyship/internal/rollout"
)

func ExampleDecide() {
	st := rollout.NewStatus(rollout.Spec{Release: "r2", Stable: "r1", Strategy: rollout.Rolling, Replicas: 2})
	d := rollout.Decide(st, rollout.Observation{
		Replicas: []rollout.Replica{
			{ID: "a", Release: "r1", Health: rollout.Ready},
			{ID: "b", Release: "r1", Health: rollout.Ready},
			{ID: "c", Release: "r2", Health: rollout.Ready},
		},
		Weights: map[string]int{"r1": 100},
		Now:     time.Now(),
	})
	fmt.Println(d.Action, d.Weights)
	// Output: set-weights map[r1:67 r2:33]
}

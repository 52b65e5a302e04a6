package rollout

import (
	"fmt"
	"maps"
	"sort"
	"time"
)

// Action is the kind of a Decision.
type Action string

// Actions.
const (
	Wait     Action = "wait"        // nothing to do until replicas change or Until passes
	Start    Action = "start"       // start N replicas of Release
	Stop     Action = "stop"        // drain and stop IDs
	Weigh    Action = "set-weights" // set Weights
	MarkStep Action = "mark-step"   // record the start of the canary step (time, metric baselines)
	Analyze  Action = "analyze"     // run the canary analysis
	Promoted Action = "promoted"    // the new release serves all traffic: phase succeeded
	Revert   Action = "roll-back"   // begin rolling back: Reason says why
	Reverted Action = "rolled-back" // the stable release serves again: phase rolled-back
	Done     Action = "done"        // nothing to do; recheck at Until when set
)

// Decision is the one next step of a deploy.
type Decision struct {
	Action  Action         `json:"action"`
	Release string         `json:"release,omitempty"`
	N       int            `json:"n,omitempty"`
	IDs     []string       `json:"ids,omitempty"`
	Weights map[string]int `json:"weights,omitempty"`
	Reason  string         `json:"reason,omitempty"`
	Until   time.Time      `json:"until,omitzero"`
}

// Observation is what the target reports.
type Observation struct {
	Replicas []Replica
	Weights  map[string]int
	Now      time.Time
}

// group is the replicas of one release by health.
type group struct {
	alive, ready, starting, failed []Replica
	// stopping are stopped but not gone: they count for nothing but recreate's wait.
	stopping []Replica
}

func groupOf(obs Observation, pred func(release string) bool) group {
	var g group
	rs := append([]Replica(nil), obs.Replicas...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
	for _, r := range rs {
		if !pred(r.Release) {
			continue
		}
		switch r.Health {
		case Ready:
			g.ready = append(g.ready, r)
			g.alive = append(g.alive, r)
		case Starting:
			g.starting = append(g.starting, r)
			g.alive = append(g.alive, r)
		case Failed:
			g.failed = append(g.failed, r)
		case Stopping:
			g.stopping = append(g.stopping, r)
		}
	}
	return g
}

func ids(rs []Replica) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// Decide returns the next step of the deploy st given what the target reports. It is pure:
// the same status and observation always give the same decision.
func Decide(st Status, obs Observation) Decision {
	sp := st.Spec
	nw := groupOf(obs, func(r string) bool { return r == sp.Release })
	old := groupOf(obs, func(r string) bool { return r == sp.Stable && sp.Stable != "" })
	others := groupOf(obs, func(r string) bool { return r != sp.Release && r != sp.Stable })
	switch st.Phase {
	case Succeeded:
		return decideRetire(st, obs, old, others)
	case RolledBack:
		if len(nw.alive)+len(nw.failed) > 0 {
			return Decision{Action: Stop, IDs: ids(append(nw.alive, nw.failed...)), Reason: "stopping the rolled-back release"}
		}
		return Decision{Action: Done}
	case RollingBack:
		return decideRollback(st, obs, nw, old)
	}
	if st.Abort {
		return Decision{Action: Revert, Reason: "aborted by the user"}
	}
	if len(nw.failed) > 0 {
		r := nw.failed[0]
		return Decision{Action: Revert, Reason: fmt.Sprintf("replica %s of %s failed: %s", r.ID, r.Release, r.Diagnosis)}
	}
	if len(others.alive)+len(others.failed) > 0 {
		return Decision{Action: Stop, IDs: ids(append(others.alive, others.failed...)), Reason: "retiring releases older than the stable one"}
	}
	if len(old.failed) > 0 {
		return Decision{Action: Stop, IDs: ids(old.failed), Reason: "removing failed replicas of the stable release"}
	}
	if sp.Strategy == Recreate {
		return decideRecreate(st, obs, nw, old, others)
	}
	if sp.Stable == "" || len(old.alive) == 0 {
		// Nothing serves yet: bring the whole set up, then switch.
		return decideBlueGreen(st, obs, nw, old)
	}
	switch sp.Strategy {
	case BlueGreen:
		return decideBlueGreen(st, obs, nw, old)
	case Canary:
		return decideCanary(st, obs, nw, old)
	default:
		return decideRolling(st, obs, nw, old)
	}
}

func sameWeights(a, b map[string]int) bool {
	clean := func(m map[string]int) map[string]int {
		out := map[string]int{}
		for k, v := range m {
			if v != 0 {
				out[k] = v
			}
		}
		return out
	}
	return maps.Equal(clean(a), clean(b))
}

func waitReady(g group) Decision {
	return Decision{Action: Wait, Reason: fmt.Sprintf("waiting for %d replica(s) of %s to become ready", len(g.starting), g.starting[0].Release)}
}

// decideRolling replaces old replicas one at a time: start one new (surge 1), wait until it
// is ready, shift traffic in proportion to ready replicas, drain one old.
func decideRolling(st Status, obs Observation, nw, old group) Decision {
	sp := st.Spec
	if len(nw.starting) > 0 {
		return waitReady(nw)
	}
	total := len(nw.ready) + len(old.ready)
	if total > 0 {
		w := map[string]int{sp.Release: (100*len(nw.ready) + total/2) / total}
		w[sp.Stable] = 100 - w[sp.Release]
		if !sameWeights(w, obs.Weights) {
			return Decision{Action: Weigh, Weights: w, Reason: fmt.Sprintf("%d of %d ready replicas run %s", len(nw.ready), total, sp.Release)}
		}
	}
	if len(nw.ready) < sp.Replicas && len(nw.ready)+len(old.alive) <= sp.Replicas {
		return Decision{Action: Start, Release: sp.Release, N: 1, Reason: fmt.Sprintf("starting replica %d of %d", len(nw.ready)+1, sp.Replicas)}
	}
	if len(old.alive) > 0 {
		return Decision{Action: Stop, IDs: []string{old.alive[0].ID}, Reason: "draining one replica of " + sp.Stable}
	}
	return Decision{Action: Promoted, Reason: sp.say(fmt.Sprintf("%d replica(s) of %s serve all traffic", len(nw.ready), sp.Release), fmt.Sprintf("%d replica(s) of %s run, none of %s", len(nw.ready), sp.Release, orNone(sp.Stable)))}
}

// decideRecreate stops every replica of the stable release and waits until they are gone (a
// stopping replica still holds its volume), then brings the full new set up and gives it the
// traffic as blue-green does. Nothing serves in between.
func decideRecreate(st Status, obs Observation, nw, old, others group) Decision {
	sp := st.Spec
	if len(old.alive) > 0 {
		return Decision{Action: Stop, IDs: ids(old.alive), Reason: sp.say(
			fmt.Sprintf("stopping %d replica(s) of %s before starting %s (recreate: no replica serves until %s is ready)", len(old.alive), sp.Stable, sp.Release, sp.Release),
			fmt.Sprintf("stopping %d replica(s) of %s before starting %s (recreate)", len(old.alive), sp.Stable, sp.Release))}
	}
	if gone := waitGone(old, others); gone.Action != "" {
		return gone
	}
	return decideBlueGreen(st, obs, nw, old)
}

// waitGone waits while replicas of the groups are stopping: until they are gone, what they
// hold (a ReadWriteOnce volume) is not free for the release started next.
func waitGone(gs ...group) Decision {
	for _, g := range gs {
		if len(g.stopping) > 0 {
			return Decision{Action: Wait, Reason: fmt.Sprintf("waiting for %d replica(s) of %s to be gone", len(g.stopping), g.stopping[0].Release)}
		}
	}
	return Decision{}
}

// decideBlueGreen starts the full new set, waits until all are ready, then switches all
// traffic at once. The old set stays warm for the rollback window.
func decideBlueGreen(st Status, obs Observation, nw, old group) Decision {
	sp := st.Spec
	if n := sp.Replicas - len(nw.alive); n > 0 {
		return Decision{Action: Start, Release: sp.Release, N: n, Reason: fmt.Sprintf("starting %d replica(s) of %s", n, sp.Release)}
	}
	if len(nw.starting) > 0 {
		return waitReady(nw)
	}
	want := map[string]int{sp.Release: 100}
	if !sameWeights(want, obs.Weights) {
		return Decision{Action: Weigh, Weights: want, Reason: sp.say("switching all traffic to "+sp.Release, sp.Release+" is now the live release")}
	}
	return Decision{Action: Promoted, Reason: sp.say(fmt.Sprintf("%d replica(s) of %s serve all traffic", len(nw.ready), sp.Release), fmt.Sprintf("%d replica(s) of %s run, none of %s", len(nw.ready), sp.Release, orNone(sp.Stable)))}
}

// decideCanary starts the new set, then moves traffic through the canary steps, analysing
// each step after its pause.
func decideCanary(st Status, obs Observation, nw, old group) Decision {
	sp := st.Spec
	c := sp.Canary
	step := min(st.Step, len(c.Steps)-1)
	pct := c.Steps[step]
	if st.Promote {
		pct = 100
	}
	if sp.ReplicaWeights {
		if d, ok := scaleCanary(sp, step, pct, nw, old); ok {
			return d
		}
	} else if n := sp.Replicas - len(nw.alive); n > 0 {
		return Decision{Action: Start, Release: sp.Release, N: n, Reason: fmt.Sprintf("starting %d canary replica(s) of %s", n, sp.Release)}
	}
	if len(nw.starting) > 0 {
		return waitReady(nw)
	}
	want := map[string]int{sp.Release: pct, sp.Stable: 100 - pct}
	if !sameWeights(want, obs.Weights) {
		return Decision{Action: Weigh, Weights: want, Reason: sp.say(fmt.Sprintf("canary step %d: %d%% of traffic to %s", step+1, pct, sp.Release), fmt.Sprintf("canary step %d of %s (%d%%)", step+1, sp.Release, pct))}
	}
	if pct == 100 {
		if len(old.alive) > 0 {
			return Decision{Action: Stop, IDs: ids(old.alive), Reason: "draining " + sp.Stable}
		}
		return Decision{Action: Promoted, Reason: fmt.Sprintf("%s passed every canary step", sp.Release)}
	}
	if st.StepStarted.IsZero() {
		return Decision{Action: MarkStep, Reason: fmt.Sprintf("canary step %d started", step+1)}
	}
	at := st.AnalyzeAt
	if at.IsZero() {
		at = st.StepStarted.Add(c.Pause)
	}
	if obs.Now.Before(at) {
		return Decision{Action: Wait, Until: at, Reason: sp.say(fmt.Sprintf("canary step %d: %d%% of traffic to %s, analysis at %s", step+1, pct, sp.Release, at.UTC().Format(time.TimeOnly)),
			fmt.Sprintf("canary step %d of %s (%d%%): checking its replicas' health until %s", step+1, sp.Release, pct, at.UTC().Format(time.TimeOnly)))}
	}
	return Decision{Action: Analyze, Reason: fmt.Sprintf("analysing canary step %d", step+1)}
}

// CanaryReplicas splits total replicas between the stable release and the canary at weight
// percent when the replica counts are the traffic split: the canary gets its share rounded up
// (at least one), stable the rest (at least one until the canary has everything).
func CanaryReplicas(total, weight int) (stable, canary int) {
	canary = min(max((total*weight+99)/100, 1), total)
	if weight >= 100 {
		return 0, total
	}
	return max(total-canary, 1), canary
}

// scaleCanary brings the canary up to its share of the step before the stable release gives
// up its own, so serving capacity never drops; ok is false once both have their counts.
func scaleCanary(sp Spec, step, pct int, nw, old group) (Decision, bool) {
	ns, nc := CanaryReplicas(sp.Replicas, pct)
	if n := nc - len(nw.alive); n > 0 {
		return Decision{Action: Start, Release: sp.Release, N: n, Reason: fmt.Sprintf("canary step %d: starting %d replica(s) of %s for %d of %d", step+1, n, sp.Release, nc, sp.Replicas)}, true
	}
	if len(nw.starting) > 0 {
		return waitReady(nw), true
	}
	if n := ns - len(old.alive); n > 0 {
		return Decision{Action: Start, Release: sp.Stable, N: n, Reason: fmt.Sprintf("canary step %d: starting %d replica(s) of %s", step+1, n, sp.Stable)}, true
	}
	if extra := len(old.alive) - ns; extra > 0 && pct < 100 {
		victims := append(append([]Replica(nil), old.starting...), old.ready...) // not ready first
		return Decision{Action: Stop, IDs: ids(victims[:extra]), Reason: fmt.Sprintf("canary step %d: draining %d replica(s) of %s", step+1, extra, sp.Stable)}, true
	}
	return Decision{}, false
}

// decideRollback brings the stable release back to full strength, gives it all traffic and
// stops the new release.
func decideRollback(st Status, obs Observation, nw, old group) Decision {
	sp := st.Spec
	if sp.Strategy == Recreate && sp.Stable != "" {
		// Never both releases at once: the new one goes, and is gone, before the stable one
		// starts again. Nothing serves in between.
		if all := append(append([]Replica(nil), nw.alive...), nw.failed...); len(all) > 0 {
			return Decision{Action: Stop, IDs: ids(all), Reason: sp.say(
				fmt.Sprintf("stopping %s before restarting %s (recreate: no replica serves until %s is ready again)", sp.Release, sp.Stable, sp.Stable),
				fmt.Sprintf("stopping %s before restarting %s (recreate)", sp.Release, sp.Stable))}
		}
		if gone := waitGone(nw, old); gone.Action != "" {
			return gone
		}
	}
	if sp.Stable != "" {
		if len(old.failed) > 0 {
			return Decision{Action: Stop, IDs: ids(old.failed), Reason: "removing failed replicas of " + sp.Stable}
		}
		if n := sp.Replicas - len(old.alive); n > 0 {
			return Decision{Action: Start, Release: sp.Stable, N: n, Reason: fmt.Sprintf("restarting %d replica(s) of %s", n, sp.Stable)}
		}
		if len(old.ready) == 0 {
			return waitReady(old)
		}
		want := map[string]int{sp.Stable: 100}
		if !sameWeights(want, obs.Weights) {
			return Decision{Action: Weigh, Weights: want, Reason: sp.say("switching all traffic back to "+sp.Stable, sp.Stable+" is the live release again")}
		}
		if len(old.starting) > 0 {
			return waitReady(old)
		}
	}
	if all := append(append([]Replica(nil), nw.alive...), nw.failed...); len(all) > 0 {
		return Decision{Action: Stop, IDs: ids(all), Reason: "stopping " + sp.Release}
	}
	return Decision{Action: Reverted, Reason: st.Message}
}

// decideRetire runs after success: blue-green keeps the old set warm for the rollback window,
// then stops it; other strategies stop leftovers at once.
func decideRetire(st Status, obs Observation, old, others group) Decision {
	sp := st.Spec
	var left []Replica
	left = append(left, old.alive...)
	left = append(left, old.failed...)
	left = append(left, others.alive...)
	left = append(left, others.failed...)
	if len(left) == 0 {
		return Decision{Action: Done}
	}
	if sp.Strategy == BlueGreen && len(old.alive) > 0 {
		until := st.SwitchedAt.Add(sp.RollbackWindow)
		if obs.Now.Before(until) {
			return Decision{Action: Done, Until: until, Reason: fmt.Sprintf("%s stays warm for rollback until %s", sp.Stable, until.UTC().Format(time.TimeOnly))}
		}
	}
	return Decision{Action: Stop, IDs: ids(left), Reason: "retiring " + sp.Stable}
}

// say is web for an app that serves requests, worker for one that does not.
func (sp Spec) say(web, worker string) string {
	if sp.Worker {
		return worker
	}
	return web
}

func orNone(rel string) string {
	if rel == "" {
		return "an earlier release"
	}
	return rel
}

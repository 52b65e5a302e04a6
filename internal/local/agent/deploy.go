package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/monitor/promql"
	"github.com/pyship/pyship/internal/rollout"
)

// DeployRequest asks the agent to roll out a built release.
type DeployRequest struct {
	App     string `json:"app"`
	Release string `json:"release"`
	// Strategy overrides the plan's strategy ("" keeps it).
	Strategy string `json:"strategy,omitempty"`
	// Rollback marks a return to an earlier release (reported as a rollback; blue-green
	// semantics, so a warm set switches back instantly, unless the release's strategy is
	// recreate: the live release then stops before the earlier one starts).
	Rollback bool `json:"rollback,omitempty"`
}

// Event is one line of a deploy's progress stream.
type Event struct {
	Time    time.Time       `json:"time"`
	Message string          `json:"message,omitempty"`
	Warning string          `json:"warning,omitempty"`
	Final   *rollout.Status `json:"final,omitempty"`
	// Held says that a canary step holds for lack of traffic ([deploy.canary] no_traffic =
	// "hold"): the deploy waits for traffic or a decision, and a client may stop waiting.
	Held  bool   `json:"held,omitempty"`
	URL   string `json:"url,omitempty"`
	Error string `json:"error,omitempty"`
}

func (rt *app) engine(progress func(string)) *rollout.Engine {
	return rt.engineHeld(progress, nil)
}

// engineHeld is engine, with held called when a canary step starts holding for lack of
// traffic.
func (rt *app) engineHeld(progress func(string), held func(rollout.Status)) *rollout.Engine {
	wasHeld, judged := false, (*rollout.Verdict)(nil)
	return &rollout.Engine{
		Target:     rt,
		Clock:      rt.a.Clock,
		Prometheus: prometheus{rt},
		Vars:       promql.Vars{App: rt.name},
		Save: func(s rollout.Status) error {
			if s.Held && !wasHeld && held != nil {
				held(s)
			}
			wasHeld = s.Held
			// Every verdict is said, as on Kubernetes: a canary waiting for traffic says so
			// and how to go on, instead of showing only how long it has been analysing.
			if s.Analysis != nil && s.Analysis != judged && progress != nil {
				progress(strings.Join(append([]string{s.Message}, s.Analysis.Explain()...), "\n  "))
			}
			judged = s.Analysis
			if s.Phase == rollout.Succeeded {
				// Before the state names it stable, so a stable release is always marked.
				if err := release.MarkPromoted(rt.a.paths(), rt.name, s.Spec.Release); err != nil {
					return err
				}
			}
			rt.mu.Lock()
			rt.st.Deploy = &s
			rt.updateDeploy(s, nil)
			if s.Phase == rollout.Succeeded {
				rt.st.Stable = s.Spec.Release
			}
			rt.mu.Unlock()
			return rt.save()
		},
		Intervene: func(s *rollout.Status) {
			rt.mu.Lock()
			defer rt.mu.Unlock()
			s.Promote = s.Promote || rt.promote
			s.Abort = s.Abort || rt.abort
			rt.promote, rt.abort = false, false
		},
		Observe: func(s rollout.Status, d rollout.Decision) {
			if progress != nil && d.Reason != "" && d.Action != rollout.Wait && d.Action != rollout.Done {
				progress(d.Reason)
			}
		},
	}
}

// rollout runs the engine on st until it is done; the caller holds rt.deploying.
func (rt *app) rollout(ctx context.Context, st rollout.Status, progress func(Event)) (rollout.Status, error) {
	last := ""
	say := func(e Event) {
		if progress != nil {
			progress(e)
		}
	}
	return rt.engineHeld(func(msg string) {
		if msg != last {
			say(Event{Message: msg})
		}
		last = msg
	}, func(s rollout.Status) { say(Event{Message: s.Message, Held: true}) }).Run(ctx, st)
}

// deploy rolls out req.Release of the app, reporting progress, and notifies the webhook.
func (a *Agent) deploy(req DeployRequest, progress func(Event)) (rollout.Status, error) {
	m, err := release.Load(a.paths(), req.App, req.Release)
	if err != nil {
		return rollout.Status{}, err
	}
	a.mu.Lock()
	rt := a.apps[req.App]
	if rt == nil {
		st, err := loadState(a.paths(), req.App)
		if err != nil {
			a.mu.Unlock()
			return rollout.Status{}, err
		}
		rt = a.newApp(st, m)
		a.apps[req.App] = rt
	}
	a.mu.Unlock()
	if !rt.active.CompareAndSwap(false, true) {
		return rollout.Status{}, fmt.Errorf("a deploy of %s is already in progress: wait for it, or run `pyship abort`", req.App)
	}
	defer rt.active.Store(false)
	final, err := a.rollOut(rt, m, req, progress)
	// A refused request is no deploy; an agent shutting down leaves the deploy to the next
	// agent, which reports it.
	var refused refusal
	if !errors.As(err, &refused) && a.ctx.Err() == nil {
		if werr := a.notify(m, final, req.Rollback, err); werr != nil {
			progress(Event{Warning: werr.Error()})
		}
	}
	rt.mu.Lock()
	neverServed := rt.st.Stable == ""
	rt.mu.Unlock()
	if a.ctx.Err() == nil && !req.Rollback && neverServed && (err != nil || final.Phase == rollout.RolledBack) {
		if ferr := a.forgetNeverServed(rt, req.App); ferr != nil {
			progress(Event{Warning: ferr.Error()})
		}
	}
	return final, err
}

// forgetNeverServed removes what a failed first deploy left: an app that never served keeps
// no releases in status, no proxy process holding its port and no name a new project could
// not reuse. Its data folder and its replicas' logs stay.
func (a *Agent) forgetNeverServed(rt *app, name string) error {
	rt.deploying.Lock()
	defer rt.deploying.Unlock()
	_, err := rt.stopServing(a.ctx)
	a.mu.Lock()
	delete(a.apps, name)
	a.mu.Unlock()
	if err = errors.Join(err, destroy(a.paths(), name, "data", "logs")); err != nil {
		return fmt.Errorf("cleaning up after the failed first deploy of %s: %w", name, err)
	}
	return nil
}

// refusal is a deploy request refused before anything changed (no webhook).
type refusal struct{ error }

// rollOut serves the app's port and runs the rollout of m; the caller holds rt.active.
func (a *Agent) rollOut(rt *app, m *release.Manifest, req DeployRequest, progress func(Event)) (rollout.Status, error) {
	opts, err := proxyOptions(m)
	if err != nil {
		return rollout.Status{}, refusal{fmt.Errorf("configuring the app's proxy: %w", err)}
	}
	rt.proxy.Reconfigure(opts)
	rt.proxy.setEdge(edgeApp(m))
	if rt.recovering.Load() {
		progress(Event{Message: "waiting for the deploy interrupted by the agent's restart to roll back"})
	}
	rt.deploying.Lock() // also held for a moment by housekeeping
	defer rt.deploying.Unlock()
	if !req.Rollback {
		rt.mu.Lock()
		stable := rt.st.Stable
		rt.mu.Unlock()
		if err := rt.backupBefore(a.ctx, m, stable, progress); err != nil {
			return rollout.Status{}, err
		}
	}
	port := m.Plan.Run.Port
	if m.Plan.Run.Kind == "worker" {
		port = 0
	}
	if port > 0 {
		if err := rt.serve(port); err != nil {
			return rollout.Status{}, err
		}
	}
	strategy, err := rollout.ParseStrategy(firstNonEmpty(req.Strategy, string(m.Plan.Deploy.Strategy)))
	if err != nil {
		return rollout.Status{}, err
	}
	if req.Rollback && strategy != rollout.Recreate {
		strategy = rollout.BlueGreen // back at once, the release rolled back from kept warm
	}
	rt.mu.Lock()
	stable := rt.st.Stable
	rt.st.Stopped = false
	rt.promote, rt.abort = false, false
	rt.mu.Unlock()
	if stable == m.ID {
		if req.Rollback {
			return rollout.Status{}, refusal{fmt.Errorf("%s is already the stable release of %s: name an earlier one (pyship status lists them)", m.ID, m.App)}
		}
		stable = ""
	}
	spec := rollout.Spec{Release: m.ID, Stable: stable, Strategy: strategy, Replicas: max(m.Plan.Deploy.Replicas, 1),
		RollbackWindow: dur(m.Plan.Deploy.RollbackWindow, 10*time.Minute), Worker: m.Plan.Run.Kind == "worker"}
	if c := m.Plan.Deploy.Canary; c != nil {
		spec.Canary = rollout.CanaryConfig{Steps: c.Steps, Pause: dur(c.Pause, 30*time.Second), MinRequests: c.MinRequests,
			MaxErrorRate: c.MaxErrorRate, MaxLatencyRatio: c.MaxLatencyRatio,
			NoTraffic: rollout.NoTrafficPolicy(c.NoTraffic), NoTrafficAfter: dur(c.NoTrafficAfter, 0),
			MaxBurnRate: c.MaxBurnRate, Objective: c.Availability / 100}
		for _, ch := range c.Checks {
			spec.Canary.Checks = append(spec.Canary.Checks, rollout.Check(ch))
		}
	}
	st := rollout.NewStatus(spec)
	what := "deploying"
	if req.Rollback {
		what = "rolling back to"
	}
	progress(Event{Message: fmt.Sprintf("%s %s %s (version %s) with the %s strategy, %d replica(s)", what, m.App, m.ID, m.Version, strategy, spec.Replicas)})
	rt.mu.Lock()
	rt.st.Deploy = &st
	rt.recordReleaseStart(m.ID, string(strategy), rt.a.Clock.Now())
	rt.recordDeploy(m, st, req.Rollback)
	rt.mu.Unlock()
	if err := rt.save(); err != nil {
		return st, err
	}
	final, err := rt.rollout(a.ctx, st, progress)
	if err != nil {
		if a.ctx.Err() == nil {
			rt.mu.Lock()
			rt.updateDeploy(st, err)
			rt.mu.Unlock()
			if serr := rt.save(); serr != nil {
				rt.log.Warn("recording the failed deploy", "err", serr)
			}
		}
		return final, err
	}
	if final.Phase == rollout.Succeeded {
		rt.startSchedule(m)
		if m.Plan.Monitor != nil && m.Plan.Monitor.Local {
			if w := a.ensureMonitor(a.ctx); w != "" {
				progress(Event{Warning: w})
			}
		}
		if err := a.refreshMonitor(a.ctx); err != nil {
			progress(Event{Warning: "updating the monitoring configuration (pyship monitor up): " + err.Error()})
		}
	}
	inUse := map[string]bool{}
	for _, r := range rt.sup.List() {
		inUse[r.Release] = true
	}
	rt.mu.Lock()
	inUse[rt.st.Stable] = true
	rt.mu.Unlock()
	keep := m.Plan.Deploy.KeepReleases
	if keep <= 0 {
		keep = a.Keep
	}
	release.Prune(a.paths(), m.App, keep, inUse)
	return final, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pyship/pyship/internal/clock"
	"github.com/pyship/pyship/internal/monitor/promql"
)

// Engine applies decisions to a target until a deploy is done. Each step observes the target
// afresh, so running the engine again on a saved Status after a crash resumes the deploy.
type Engine struct {
	Target Target
	Clock  clock.Clock
	// Save persists the status after every change (nil: not persisted).
	Save func(Status) error
	// Observe, when set, is told every decision before it is applied (progress output).
	Observe func(Status, Decision)
	// Intervene, when set, may change the status before each decision (users' promote and
	// abort requests).
	Intervene func(*Status)
	// Poll is how often the target is observed while waiting (default 100ms).
	Poll time.Duration
	// Prometheus answers the canary's PromQL checks and burn-rate hold (nil: none is
	// configured, and a canary with checks is inconclusive, saying so). Vars gives their
	// placeholders the app and namespace; the engine fills in the releases.
	Prometheus Querier
	Vars       promql.Vars
}

// Step observes the target, decides and applies one step.
func (e *Engine) Step(ctx context.Context, st Status) (Status, Decision, error) {
	reps, err := e.Target.Replicas(ctx)
	if err != nil {
		return st, Decision{}, fmt.Errorf("listing replicas: %w", err)
	}
	w, err := e.Target.Weights(ctx)
	if err != nil {
		return st, Decision{}, fmt.Errorf("reading traffic weights: %w", err)
	}
	if e.Intervene != nil {
		e.Intervene(&st)
	}
	now := e.Clock.Now()
	d := Decide(st, Observation{Replicas: reps, Weights: w, Now: now})
	if e.Observe != nil {
		e.Observe(st, d)
	}
	prev := st
	if d.Reason != "" {
		st.Doing = d.Reason
	}
	sp := st.Spec
	switch d.Action {
	case Start:
		err = e.Target.Start(ctx, d.Release, d.N)
	case Stop:
		err = e.Target.Stop(ctx, d.IDs)
	case Weigh:
		if err = e.Target.SetWeights(ctx, d.Weights); err == nil && d.Weights[sp.Release] == 100 && st.Phase == Progressing {
			st.SwitchedAt = now
		}
	case MarkStep:
		var c, s Metrics
		// Without a baseline (no metrics, or Prometheus not answering now) the step is judged
		// on the counters since each release started.
		if c, s, err = e.metrics(ctx, sp); errors.Is(err, ErrNoMetrics) || errors.Is(err, promql.ErrUnreachable) {
			c, s, err = Metrics{}, Metrics{}, nil
		}
		if err == nil {
			st.CanaryBase, st.StableBase = c, s
			st.StepStarted, st.AnalyzeAt = now, now.Add(sp.Canary.Pause)
		}
	case Analyze:
		var c, s Metrics
		switch c, s, err = e.metrics(ctx, sp); {
		case errors.Is(err, ErrNoMetrics) && sp.Worker:
			st, err = ApplyVerdict(st, e.judge(ctx, sp, WorkerVerdict()), now), nil
		case errors.Is(err, ErrNoMetrics):
			st, err = ApplyVerdict(st, e.judge(ctx, sp, Unmeasured(err)), now), nil
		case errors.Is(err, promql.ErrUnreachable):
			v := Verdict{Outcome: Inconclusive, Unreachable: true, Reason: err.Error()}
			st, err = ApplyVerdict(st, e.judge(ctx, sp, v), now), nil
		case err == nil:
			st = ApplyVerdict(st, e.judge(ctx, sp, Judge(sp.Canary, c.Sub(st.CanaryBase), s.Sub(st.StableBase))), now)
		}
	case Promoted:
		st.Phase = Succeeded
		st.Message = d.Reason
		if st.SwitchedAt.IsZero() {
			st.SwitchedAt = now
		}
	case Revert:
		st.Phase, st.Message = RollingBack, d.Reason
	case Reverted:
		st.Phase = RolledBack
	}
	if st.Terminal() || st.Phase == RollingBack {
		st.Held = false // a promoted or aborted canary holds no more
	}
	if err != nil {
		return st, d, fmt.Errorf("%s: %w", d.Action, err)
	}
	if e.Save != nil && !equalStatus(prev, st) {
		if err := e.Save(st); err != nil {
			return st, d, fmt.Errorf("saving deploy status: %w", err)
		}
	}
	return st, d, nil
}

func equalStatus(a, b Status) bool {
	return a.Phase == b.Phase && a.Message == b.Message && a.Doing == b.Doing && a.Step == b.Step &&
		a.StepStarted.Equal(b.StepStarted) && a.AnalyzeAt.Equal(b.AnalyzeAt) && a.SwitchedAt.Equal(b.SwitchedAt) && a.Analysis == b.Analysis && a.Promote == b.Promote && a.Abort == b.Abort && a.Held == b.Held
}

// judge adds the PromQL checks' results to the built-in verdict.
func (e *Engine) judge(ctx context.Context, sp Spec, v Verdict) Verdict {
	vars := e.Vars
	vars.Release, vars.Stable = sp.Release, sp.Stable
	return Combine(v, RunChecks(ctx, e.Prometheus, sp.Canary, vars))
}

func (e *Engine) metrics(ctx context.Context, sp Spec) (canary, stable Metrics, err error) {
	if canary, err = e.Target.Metrics(ctx, sp.Release); err != nil {
		return canary, stable, fmt.Errorf("reading metrics of %s: %w", sp.Release, err)
	}
	if stable, err = e.Target.Metrics(ctx, sp.Stable); err != nil {
		return canary, stable, fmt.Errorf("reading metrics of %s: %w", sp.Stable, err)
	}
	return canary, stable, nil
}

// Run steps the deploy until nothing is left to do now (Decision Done) and returns the final
// status: Succeeded or RolledBack, unless ctx ends first.
func (e *Engine) Run(ctx context.Context, st Status) (Status, error) {
	poll := e.Poll
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	for {
		var d Decision
		var err error
		st, d, err = e.Step(ctx, st)
		if err != nil {
			return st, err
		}
		switch d.Action {
		case Done:
			return st, nil
		case Wait:
			wait := poll
			if !d.Until.IsZero() {
				wait = min(wait, max(d.Until.Sub(e.Clock.Now()), 0))
			}
			if err := e.Clock.Sleep(ctx, wait); err != nil {
				return st, err
			}
		default:
			if err := ctx.Err(); err != nil {
				return st, err
			}
		}
	}
}

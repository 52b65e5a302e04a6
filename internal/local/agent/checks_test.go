package agent

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

// canary5xx is a PromQL check of the canary's 5xx share over the last 10 s, from the agent's
// own /metrics as the shared Prometheus scrapes them.
func canary5xx() plan.CanaryCheck {
	maxRatio := 0.05
	return plan.CanaryCheck{Name: "canary-5xx", Max: &maxRatio,
		Query: `(sum(rate(pyship_requests_total{app="{{app}}",namespace="{{namespace}}",release="{{release}}",code=~"5.."}[10s])) or vector(0)) / sum(rate(pyship_requests_total{app="{{app}}",release="{{release}}"}[10s]))`}
}

// scrapedApp runs an agent with release v1 of an app in mode (see stdlibApp) under a load
// that lasts the test, the shared Prometheus scraping the agent's /metrics; the app's name is
// new, as the shared Prometheus keeps other runs' series.
func scrapedApp(t *testing.T, mode string) (c *Client, home, app string, pub int, prom string) {
	t.Helper()
	home = newHome(t)
	c = startAgent(t, home)
	app = fmt.Sprintf("prom%d", rand.IntN(1e9))
	pub = port(t)
	p1 := stdlibPlan(stdlibApp(t, mode), "v1", "canary", pub)
	p1.Name = app
	deploy(t, c, build(t, home, p1))
	st, err := c.Status(context.Background(), app)
	if err != nil || len(st) != 1 {
		t.Fatalf("status %+v %v", st, err)
	}
	admin, err := url.Parse(st[0].Metrics)
	if err != nil {
		t.Fatal(err)
	}
	prom, _ = testsvc.Scrape(t, admin.Host)
	l := startLoad(fmt.Sprintf("http://127.0.0.1:%d/", pub), 4)
	t.Cleanup(l.stop)
	testsvc.Eventually(t, 30*time.Second, "the load to reach the app", func() error {
		if n := l.ok.Load() + l.failed.Load(); n < 50 {
			return fmt.Errorf("%d requests answered", n)
		}
		return nil
	})
	return c, home, app, pub, prom
}

// TestCanaryChecksOnTheRealPrometheus deploys a canary on the local target with a PromQL
// check asked of the shared real Prometheus, which scrapes the agent's /metrics, under real
// traffic: a healthy release passes, one answering 500 fails on the check alone (the built-in
// 5xx threshold is set to 100%), and the verdict carries the resolved query, value and max.
func TestCanaryChecksOnTheRealPrometheus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode     string
		phase    rollout.Phase
		says     string
		burnHigh bool // the app's burn rate is above max_burn_rate
	}{
		{"", rollout.Succeeded, "checks passed: canary-5xx, slo-burn-rate", false},
		{"error500", rollout.RolledBack, "check canary-5xx: 1 is above the max 0.05", true},
	} {
		t.Run("mode="+tc.mode, func(t *testing.T) {
			c, home, app, pub, prom := scrapedApp(t, "")

			p2 := stdlibPlan(stdlibApp(t, tc.mode), "v2", "canary", pub)
			p2.Name = app
			p2.Deploy.Canary.Pause = "8s" // rate(...[10s]) over scrapes every second
			p2.Deploy.Canary.MaxErrorRate = 1
			p2.Deploy.Canary.PrometheusURL = prom
			p2.Deploy.Canary.Checks = []plan.CanaryCheck{canary5xx()}
			p2.Deploy.Canary.MaxBurnRate, p2.Deploy.Canary.Availability = 2, 99 // the plan carries [monitor] availability here
			ev := deploy(t, c, build(t, home, p2))
			if ev.Final == nil || ev.Final.Phase != tc.phase || ev.Final.Analysis == nil || !strings.Contains(ev.Final.Analysis.Reason, tc.says) {
				t.Fatalf("the canary ended %+v, want %s saying %q", ev.Final, tc.phase, tc.says)
			}
			a := ev.Final.Analysis
			if len(a.Checks) != 2 || a.Checks[1].Value == nil {
				t.Fatalf("analysis %+v, want the check's and the burn rate's results", a)
			}
			// A quarter of the app's traffic answering 500 burns a 1% budget about 25 times
			// too fast; a healthy app burns none.
			if burn := *a.Checks[1].Value; (burn > 2) != tc.burnHigh {
				t.Errorf("burn rate %v (%s), want above 2: %v", burn, a.Checks[1].Query, tc.burnHigh)
			}
			r := a.Checks[0]
			t.Logf("canary analysis: %s: %s\n  %s", a.Outcome, a.Reason, strings.Join(a.Explain(), "\n  "))
			if !strings.Contains(r.Query, fmt.Sprintf(`app=%q,namespace="",release=%q`, app, ev.Final.Spec.Release)) || r.Value == nil || *r.Max != 0.05 {
				t.Errorf("check result %+v, want the query resolved for %s %s with its value and max", r, app, ev.Final.Spec.Release)
			}
		})
	}
}

// TestCanaryWithUnreachablePrometheus: a check Prometheus does not answer is inconclusive,
// saying so, and even with no_traffic = "promote" the canary is rolled back after
// no_traffic_after, never promoted.
func TestCanaryWithUnreachablePrometheus(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	home := newHome(t)
	c := startAgent(t, home)
	pub := port(t)
	deploy(t, c, build(t, home, stdlibPlan(stdlibApp(t, ""), "v1", "canary", pub)))
	ld := startLoad(fmt.Sprintf("http://127.0.0.1:%d/", pub), 2)
	defer ld.stop()
	p := stdlibPlan(stdlibApp(t, ""), "v2", "canary", pub)
	p.Deploy.Canary.Pause = "300ms"
	p.Deploy.Canary.NoTraffic, p.Deploy.Canary.NoTrafficAfter = "promote", "2s"
	p.Deploy.Canary.PrometheusURL = closed
	p.Deploy.Canary.Checks = []plan.CanaryCheck{canary5xx()}
	m := build(t, home, p)
	ev := deploy(t, c, m)
	if ev.Final == nil || ev.Final.Phase != rollout.RolledBack || !strings.Contains(ev.Final.Message, "never promoted") || !strings.Contains(ev.Final.Message, "connection refused") {
		t.Fatalf("the canary ended %+v, want rolled back as Prometheus never answered", ev.Final)
	}
	if a := ev.Final.Analysis; a == nil || !a.Unreachable || len(a.Checks) != 1 || !a.Checks[0].Unreachable || a.Checks[0].Value != nil || !strings.Contains(a.Reason, "did not answer") {
		t.Errorf("analysis %+v, want unreachable without a value, naming Prometheus", ev.Final.Analysis)
	}
	t.Logf("canary analysis: %s: %s\n  %s", ev.Final.Analysis.Outcome, ev.Final.Analysis.Reason, strings.Join(ev.Final.Analysis.Explain(), "\n  "))
}

// TestCanaryHeldWhileTheSLOBurns: the stable release answers 500 under real traffic, so the
// app burns its error budget far above max_burn_rate while the healthy canary passes its own
// judgement: the step is held, not failed and not promoted by no_traffic = "promote", and the
// deploy returns saying so.
func TestCanaryHeldWhileTheSLOBurns(t *testing.T) {
	t.Parallel()
	c, home, app, pub, prom := scrapedApp(t, "error500")

	p2 := stdlibPlan(stdlibApp(t, ""), "v2", "canary", pub)
	p2.Name = app
	p2.Deploy.Canary.Pause = "3s"
	p2.Deploy.Canary.NoTraffic, p2.Deploy.Canary.NoTrafficAfter = "promote", "4s"
	p2.Deploy.Canary.PrometheusURL = prom
	p2.Deploy.Canary.MaxBurnRate, p2.Deploy.Canary.Availability = 2, 99 // the plan carries [monitor] availability here
	m := build(t, home, p2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var held *Event
	ev, err := c.Deploy(ctx, DeployRequest{App: m.App, Release: m.ID}, func(e Event) {
		if e.Held && held == nil {
			held = &e
			cancel() // as `pyship deploy` does: the decision is the user's now
		}
	})
	if held == nil {
		t.Fatalf("the deploy ended %+v (%v) without holding", ev.Final, err)
	}
	if !strings.Contains(held.Message, "canary holds at step 1: the SLO burn rate") || !strings.Contains(held.Message, "is above max_burn_rate 2") {
		t.Errorf("held: %q, want the burn rate as the reason", held.Message)
	}
	st, err := c.Status(context.Background(), app)
	if err != nil || len(st) != 1 || st[0].Deploy == nil {
		t.Fatalf("status %+v %v", st, err)
	}
	d := st[0].Deploy
	if d.Phase != rollout.Progressing || !d.Held || d.Analysis == nil || !d.Analysis.Hold || len(d.Analysis.Checks) != 1 || d.Analysis.Checks[0].Value == nil || *d.Analysis.Checks[0].Value < 2 {
		t.Errorf("status of the held canary %+v (analysis %+v), want held at step 1 on a burn rate above 2", d, d.Analysis)
	}
	t.Logf("%s\n  %s", d.Message, strings.Join(d.Analysis.Explain(), "\n  "))
	if _, err := c.Act(context.Background(), app, "abort"); err != nil {
		t.Fatal(err)
	}
}

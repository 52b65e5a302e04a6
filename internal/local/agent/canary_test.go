package agent

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

// Without traffic a canary says so and holds; promote and abort end it either way.
func TestCanaryWithoutTrafficHoldsUntilPromoteOrAbort(t *testing.T) {
	t.Parallel()
	for _, verb := range []string{"promote", "abort"} {
		t.Run(verb, func(t *testing.T) {
			home := newHome(t)
			c := startAgent(t, home)
			pub := port(t)
			deploy(t, c, build(t, home, stdlibPlan(stdlibApp(t, ""), "v1", "canary", pub)))
			p := stdlibPlan(stdlibApp(t, ""), "v2", "canary", pub)
			p.Deploy.Canary.Pause = "300ms"
			m2 := build(t, home, p)
			done := make(chan Event, 1)
			go func() {
				ev, err := c.Deploy(context.Background(), DeployRequest{App: m2.App, Release: m2.ID}, func(Event) {})
				if err != nil {
					t.Errorf("deploy: %v", err)
				}
				done <- ev
			}()
			testsvc.Eventually(t, 30*time.Second, "the canary to report a lack of traffic", func() error {
				st, err := c.Status(context.Background(), "stdapp")
				if err != nil {
					return err
				}
				if len(st) != 1 || st[0].Deploy == nil || !strings.Contains(st[0].Deploy.Message, "not enough traffic") {
					return fmt.Errorf("status %+v", st)
				}
				if st[0].Deploy.Analysis == nil || st[0].Deploy.Analysis.Outcome != rollout.Inconclusive {
					t.Errorf("analysis = %+v, want inconclusive", st[0].Deploy.Analysis)
				}
				return nil
			})
			if _, err := c.Act(context.Background(), "stdapp", verb); err != nil {
				t.Fatal(err)
			}
			ev := <-done
			want, body := rollout.Succeeded, "stdlib v2"
			if verb == "abort" {
				want, body = rollout.RolledBack, "stdlib v1"
			}
			if ev.Final == nil || ev.Final.Phase != want {
				t.Fatalf("after %s the deploy ended %+v, want %s", verb, ev.Final, want)
			}
			if _, got := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", pub)); got != body {
				t.Errorf("the app answers %q, want %q", got, body)
			}
			// A second promote has nothing left to do, and says so without failing (so
			// `deploy --strategy canary && promote` works whatever the traffic did); a second
			// abort has no deploy to abort.
			msg, err := c.Act(context.Background(), "stdapp", verb)
			switch {
			case verb == "promote" && (err != nil || !strings.Contains(msg, "nothing to promote: the canary r2 of stdapp already passed every step")):
				t.Errorf("a second promote: %q, %v", msg, err)
			case verb == "abort" && (err == nil || !strings.Contains(err.Error(), "no deploy in progress")):
				t.Errorf("a second abort: %v", err)
			}
		})
	}
}

// promote is for canaries: it refuses a rolling deploy in progress, and after a blue-green
// switch it ends the rollback window.
func TestPromoteOutsideCanary(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	c := startAgent(t, home)
	pub := port(t)
	ctx := context.Background()
	deploy(t, c, build(t, home, stdlibPlan(stdlibApp(t, ""), "v1", "blue-green", pub)))
	deploy(t, c, build(t, home, stdlibPlan(stdlibApp(t, ""), "v2", "blue-green", pub)))
	warm := func() int {
		st, err := c.Status(ctx, "stdapp")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range st[0].Releases {
			if r.ID == "r1" {
				return len(r.Replicas)
			}
		}
		return 0
	}
	if n := warm(); n != 2 {
		t.Fatalf("r1 has %d warm replicas after the switch, want 2 (rollback window 1m)", n)
	}
	msg, err := c.Act(ctx, "stdapp", "promote")
	if err != nil || !strings.Contains(msg, "ended the rollback window of r1") {
		t.Fatalf("promote in the rollback window: %q, %v", msg, err)
	}
	testsvc.Eventually(t, 15*time.Second, "r1's warm replicas to stop after promote", func() error {
		if n := warm(); n != 0 {
			return fmt.Errorf("r1 still has %d warm replicas", n)
		}
		return nil
	})
	if _, err := c.Act(ctx, "stdapp", "promote"); err == nil || !strings.Contains(err.Error(), "no blue-green rollback window open") {
		t.Errorf("promote with the window closed: %v", err)
	}

	slow := stdlibApp(t, "slowstart")
	p := stdlibPlan(slow, "v3", "rolling", pub)
	m3 := build(t, home, p)
	done := make(chan Event, 1)
	go func() {
		ev, _ := c.Deploy(ctx, DeployRequest{App: m3.App, Release: m3.ID}, func(Event) {})
		done <- ev
	}()
	testsvc.Eventually(t, 30*time.Second, "the rolling deploy to start", func() error {
		st, err := c.Status(ctx, "stdapp")
		if err != nil {
			return err
		}
		if len(st) == 0 || st[0].Deploy == nil || st[0].Deploy.Spec.Release != m3.ID || st[0].Deploy.Terminal() {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
	if _, err := c.Act(ctx, "stdapp", "promote"); err == nil || !strings.Contains(err.Error(), "promote applies to canary deploys only: this rolling deploy") {
		t.Errorf("promote during a rolling deploy: %v", err)
	}
	if ev := <-done; ev.Final == nil || ev.Final.Phase != rollout.Succeeded {
		t.Errorf("the rolling deploy ended %+v", ev.Final)
	}
}

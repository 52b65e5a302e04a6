package agent

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/rollout"
)

// Without traffic a canary says so and holds; promote and abort end it either way.
func TestCanaryWithoutTrafficHoldsUntilPromoteOrAbort(t *testing.T) {
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
			deadline := time.Now().Add(30 * time.Second)
			for {
				st, err := c.Status(context.Background(), "stdapp")
				if err == nil && len(st) == 1 && st[0].Deploy != nil && strings.Contains(st[0].Deploy.Message, "not enough traffic") {
					if st[0].Deploy.Analysis == nil || st[0].Deploy.Analysis.Outcome != rollout.Inconclusive {
						t.Errorf("analysis = %+v, want inconclusive", st[0].Deploy.Analysis)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the canary never reported a lack of traffic: %+v", st)
				}
				time.Sleep(50 * time.Millisecond)
			}
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
			if _, err := c.Act(context.Background(), "stdapp", verb); err == nil || !strings.Contains(err.Error(), "no deploy in progress") {
				t.Errorf("a second %s: %v", verb, err)
			}
		})
	}
}

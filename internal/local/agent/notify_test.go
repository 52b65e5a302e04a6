package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

// hookPayload is the part of the Slack-compatible message the tests check.
type hookPayload struct {
	Text        string `json:"text"`
	Username    string `json:"username"`
	Attachments []struct {
		Fields []struct{ Title, Value string }
	} `json:"attachments"`
}

func (p hookPayload) field(title string) string {
	for _, a := range p.Attachments {
		for _, f := range a.Fields {
			if f.Title == title {
				return f.Value
			}
		}
	}
	return ""
}

// webhook is a real HTTP receiver of the agent's notifications.
type webhook struct {
	*httptest.Server
	mu   sync.Mutex
	got  []hookPayload
	errs []string
}

func newWebhook(t *testing.T) *webhook {
	h := &webhook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p hookPayload
		err := json.NewDecoder(r.Body).Decode(&p)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err != nil || r.Header.Get("Content-Type") != "application/json" {
			h.errs = append(h.errs, r.Header.Get("Content-Type")+" "+err.Error())
		}
		h.got = append(h.got, p)
	}))
	t.Cleanup(h.Close)
	return h
}

// wait returns the payloads once there are n of them.
func (h *webhook) wait(t *testing.T, n int) []hookPayload {
	t.Helper()
	var got []hookPayload
	testsvc.Eventually(t, 30*time.Second, fmt.Sprintf("%d webhook message(s)", n), func() error {
		h.mu.Lock()
		var errs []string
		got, errs = append([]hookPayload(nil), h.got...), h.errs
		h.mu.Unlock()
		if len(errs) > 0 {
			t.Fatalf("bad webhook requests: %v", errs)
		}
		if len(got) < n {
			return fmt.Errorf("the webhook got %d message(s): %+v", len(got), got)
		}
		return nil
	})
	return got
}

// A deploy the agent cannot carry out (here: its secrets file is gone) is reported as failed.
func TestWebhookOnEngineError(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	c := startAgent(t, home)
	hook := newWebhook(t)
	p := stdlibPlan(stdlibApp(t, ""), "v1", "rolling", port(t))
	p.NotifyWebhook = hook.URL
	p.SecretsFile = filepath.Join(t.TempDir(), "gone.env")
	m := build(t, home, p)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Deploy(ctx, DeployRequest{App: m.App, Release: m.ID}, func(Event) {}); err == nil {
		t.Fatal("a deploy without its secrets file succeeded")
	}
	got := hook.wait(t, 1)[0]
	if !strings.Contains(got.Text, ":x: deploy of stdapp r1 (version v1) failed:") || !strings.Contains(got.Text, "gone.env") ||
		got.field("phase") != "failed" || got.field("release") != "r1" || got.Username != "pyship" {
		t.Errorf("webhook payload = %+v", got)
	}

	// A port taken by another program fails the deploy of another app before its rollout.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().(*net.TCPAddr).Port
	p2 := stdlibPlan(stdlibApp(t, ""), "v1", "rolling", taken)
	p2.Name, p2.NotifyWebhook = "otherapp", hook.URL
	m2 := build(t, home, p2)
	if _, err := c.Deploy(ctx, DeployRequest{App: m2.App, Release: m2.ID}, func(Event) {}); err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("deploy to a taken port: %v", err)
	}
	got = hook.wait(t, 2)[1]
	if want := fmt.Sprintf(":x: deploy of otherapp r1 (version v1) failed: port %d is already in use", taken); !strings.Contains(got.Text, want) || got.field("app") != "otherapp" {
		t.Errorf("webhook payload = %+v, want %q", got, want)
	}
}

// A deploy interrupted by the agent's restart is rolled back by the next agent, which tells
// the webhook.
func TestWebhookOnRecoveredRollback(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	hook := newWebhook(t)
	pub := port(t)
	c, _, shutdown := runAgent(t, home)
	p1 := stdlibPlan(stdlibApp(t, ""), "v1", "blue-green", pub)
	p1.NotifyWebhook = hook.URL
	if ev := deploy(t, c, build(t, home, p1)); ev.Final.Phase != rollout.Succeeded {
		t.Fatalf("deploy v1: %+v", ev.Final)
	}
	if got := hook.wait(t, 1)[0]; !strings.Contains(got.Text, "r1 (version v1) deployed") {
		t.Fatalf("first message: %+v", got)
	}
	slowDir := stdlibApp(t, "slowstart")
	os.WriteFile(filepath.Join(slowDir, "delay.txt"), []byte("30"), 0o644)
	p2 := stdlibPlan(slowDir, "v2", "blue-green", pub)
	p2.NotifyWebhook = hook.URL
	m2 := build(t, home, p2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Deploy(ctx, DeployRequest{App: m2.App, Release: m2.ID}, func(Event) {})
	testsvc.Eventually(t, 30*time.Second, "the v2 deploy to start its replicas", func() error {
		st, _ := loadState(release.Paths{Home: home}, "stdapp")
		n := 0
		for _, r := range st.Replicas {
			if r.Release == m2.ID {
				n++
			}
		}
		if n != 2 {
			return fmt.Errorf("%d v2 replicas in %+v", n, st)
		}
		return nil
	})
	shutdown()
	c2 := startAgent(t, home)
	got := hook.wait(t, 2)[1]
	if !strings.Contains(got.Text, ":x: deploy of stdapp r2 (version v2) failed and was rolled back to r1") ||
		!strings.Contains(got.Text, "interrupted") || got.field("phase") != string(rollout.RolledBack) || got.field("release") != "r2" {
		t.Errorf("webhook payload after the restart = %+v", got)
	}
	if st, err := c2.Status(ctx, "stdapp"); err != nil || st[0].Stable != "r1" {
		t.Errorf("status after recovery: %+v %v", st, err)
	}
}

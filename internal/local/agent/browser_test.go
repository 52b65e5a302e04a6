package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

// browser is a real headless Chromium (Debian's), driven with chromedp; it records every
// console error and uncaught exception of the pages it shows.
type browser struct {
	ctx  context.Context
	mu   sync.Mutex
	errs []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	bin := testsvc.Start(t, "chromium")["PYSHIP_TEST_CHROMIUM"]
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.Flag("headless", "new"), chromedp.DisableGPU, chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{ctx: ctx}
	listen := func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				msg = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			msg = "exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
		case *log.EventEntryAdded:
			// Content-Security-Policy violations, failed loads and the like.
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				msg = fmt.Sprintf("log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		}
		if msg != "" {
			b.mu.Lock()
			b.errs = append(b.errs, msg)
			b.mu.Unlock()
		}
	}
	if err := chromedp.Listen(ctx, listen); err != nil {
		t.Fatalf("starting chromium %s: %v", bin, err)
	}
	enableLog := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, log.Enable, cdp.Empty{})
		return err
	})
	if err := chromedp.Do(ctx, enableLog); err != nil {
		t.Fatalf("starting chromium %s: %v", bin, err)
	}
	return b
}

func (b *browser) errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

// artefact writes a test artefact to $PYSHIP_TEST_ARTEFACTS (default testdata/artefacts, which
// git ignores) and returns its path.
func artefact(t *testing.T, name string, data []byte) string {
	t.Helper()
	dir := os.Getenv("PYSHIP_TEST_ARTEFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artefacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// pageState is what the test reads of the page the script built.
type pageState struct {
	Loaded  int            `json:"loaded"`
	Apps    []string       `json:"apps"`
	Points  map[string]int `json:"points"`
	Alerts  string         `json:"alerts"`
	Deploys []string       `json:"deploys"`
	Rows    int            `json:"rows"`
}

const readPage = `(() => {
  const app = document.querySelector("article.app");
  const points = {};
  if (app) for (const s of app.querySelectorAll("svg.chart")) points[s.getAttribute("aria-label")] = Number(s.dataset.points || 0);
  return {
    loaded: Number(document.body.dataset.loaded || 0),
    apps: [...document.querySelectorAll("article.app h2")].map((h) => h.textContent),
    points,
    alerts: document.getElementById("alerts-body").textContent,
    deploys: app ? [...app.querySelectorAll("table")[1].querySelectorAll("tbody tr")].map((r) => r.textContent) : [],
    rows: app ? app.querySelectorAll("table")[0].querySelectorAll("tbody tr").length : 0,
  };
})()`

func TestStatusPageInBrowser(t *testing.T) {
	t.Parallel()
	br := newBrowser(t)
	home := newHome(t)
	c, a, shutdown := runAgent(t, home, func(a *Agent) { a.HistoryStep = time.Second })
	t.Cleanup(func() {
		c.Act(context.Background(), "stdapp", "stop")
		shutdown()
	})
	pub := port(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", pub)
	m1 := build(t, home, stdlibPlan(stdlibApp(t, ""), "v1", "rolling", pub))
	if ev := deploy(t, c, m1); ev.Final.Phase != rollout.Succeeded {
		t.Fatalf("v1: %+v", ev.Final)
	}
	l := startLoad(url, 3)
	t.Cleanup(l.stop)
	l.waitFor(t, 100)
	// A canary that answers 500 is rolled back: the page shows its errors and its verdict.
	m2 := build(t, home, stdlibPlan(stdlibApp(t, "error500"), "v2", "canary", pub))
	if ev := deploy(t, c, m2); ev.Final.Phase != rollout.RolledBack {
		t.Fatalf("the failing canary v2: %s %s", ev.Final.Phase, ev.Final.Message)
	}
	l.waitFor(t, 100)
	cfg := monitorUp(t, c)
	postAlert(t, cfg.AlertmanagerAddr, "PyshipSLOBurnFast")

	page := "http://" + a.adminAddr + "/status"
	if err := chromedp.Do(br.ctx, chromedp.Navigate(page)); err != nil {
		t.Fatalf("opening %s: %v", page, err)
	}
	var st pageState
	testsvc.Eventually(t, 60*time.Second, "the page to draw the app's traffic, its deploys and the alert", func() error {
		var err error
		if st, err = chromedp.Run(br.ctx, chromedp.Evaluate[pageState](readPage)); err != nil {
			return err
		}
		switch {
		case len(st.Apps) != 1 || st.Apps[0] != "stdapp" || st.Rows != 2:
			return fmt.Errorf("apps %v with %d release rows", st.Apps, st.Rows)
		case st.Points["Requests/s"] < 20 || st.Points["Error rate (5xx)"] < 3 || st.Points["Latency (all releases)"] < 3:
			return fmt.Errorf("plotted points %v", st.Points)
		case !strings.Contains(st.Alerts, "PyshipSLOBurnFast"):
			return fmt.Errorf("alerts show %q", st.Alerts)
		case len(st.Deploys) != 2 || !strings.Contains(st.Deploys[0], "rolled-back") || !strings.Contains(st.Deploys[1], "succeeded"):
			return fmt.Errorf("deploys %q", st.Deploys)
		}
		return nil
	})
	// The page polls: a later refresh draws more points.
	before := st.Points["Requests/s"]
	loaded := st.Loaded
	testsvc.Eventually(t, 30*time.Second, "the page to refresh with new points", func() error {
		var err error
		if st, err = chromedp.Run(br.ctx, chromedp.Evaluate[pageState](readPage)); err != nil {
			return err
		}
		if st.Loaded <= loaded || st.Points["Requests/s"] <= before {
			return fmt.Errorf("refreshed %d times, %d points (had %d)", st.Loaded, st.Points["Requests/s"], before)
		}
		return nil
	})
	shot, err := chromedp.Run(br.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	t.Logf("screenshot: %s", artefact(t, "status-page.png", shot))
	if os.Getenv("PYSHIP_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(filepath.Join(testsvc.RepoRoot(t), "docs", "status-page.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if errs := br.errors(); len(errs) > 0 {
		t.Errorf("the page logged %d error(s):\n%s", len(errs), strings.Join(errs, "\n"))
	}
}

// Text from users' specs (here a release's version) shows as text: the page parses none of it
// as HTML, and no script of it runs.
func TestStatusPageShowsHostileTextAsText(t *testing.T) {
	t.Parallel()
	br := newBrowser(t)
	home := newHome(t)
	c, a, shutdown := runAgent(t, home)
	t.Cleanup(func() {
		c.Act(context.Background(), "stdapp", "stop")
		shutdown()
	})
	const hostile = `v1<img src=x onerror="console.error('injected')"><script>console.error('injected')</script>`
	p := stdlibPlan(stdlibApp(t, ""), hostile, "rolling", port(t))
	p.Deploy.Replicas = 1
	if ev := deploy(t, c, build(t, home, p)); ev.Final.Phase != rollout.Succeeded {
		t.Fatalf("deploy: %+v", ev.Final)
	}
	if err := chromedp.Do(br.ctx, chromedp.Navigate("http://"+a.adminAddr+"/status")); err != nil {
		t.Fatal(err)
	}
	type seen struct {
		Version string `json:"version"`
		Images  int    `json:"images"`
		Scripts int    `json:"scripts"`
	}
	testsvc.Eventually(t, 30*time.Second, "the page to show the release's version", func() error {
		got, err := chromedp.Run(br.ctx, chromedp.Evaluate[seen](`(() => {
  const cell = document.querySelector("article.app table tbody tr td:nth-child(2)");
  return {version: cell ? cell.textContent : "", images: document.querySelectorAll("img").length,
    scripts: document.querySelectorAll("script").length};
})()`))
		if err != nil {
			return err
		}
		if got.Version != hostile {
			return fmt.Errorf("the version cell reads %q", got.Version)
		}
		if got.Images != 0 || got.Scripts != 1 {
			t.Fatalf("the version was parsed as HTML: %d img and %d script elements", got.Images, got.Scripts)
		}
		return nil
	})
	if errs := br.errors(); len(errs) > 0 {
		t.Errorf("the page logged %d error(s):\n%s", len(errs), strings.Join(errs, "\n"))
	}
}

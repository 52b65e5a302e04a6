package monitor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/local/proxy"
	"github.com/pyship/pyship/internal/monitor"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/testsvc"
	"gopkg.in/yaml.v3"
)

// slackMessage is what Alertmanager's Slack notifier posts.
type slackMessage struct {
	Username    string `json:"username"`
	Attachments []struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	} `json:"attachments"`
}

// TestAlertReachesWebhook runs the whole path with real parts: pyship's own proxy in front of
// a backend answering 5xx to a third of the requests, its series served in the Prometheus text
// format as the agent's /metrics serves them; a private Prometheus with the generated
// prometheus.yml and rules.yml scraping them; a private Alertmanager with the generated
// alertmanager.yml; and the webhook, an httptest server, receiving the page.
func TestAlertReachesWebhook(t *testing.T) {
	env := testsvc.Start(t, "prometheus")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	// The app: every third request is a 500.
	var n atomic.Int64
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%3 == 0 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(app.Close)
	px := proxy.New(proxy.Options{})
	px.AddBackend("b1", "r1", strings.TrimPrefix(app.URL, "http://"))
	if err := px.SetWeights(map[string]int{"r1": 100}); err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(px)
	t.Cleanup(front.Close)
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		px.WriteMetrics(w, `app="shop"`)
	}))
	t.Cleanup(metrics.Close)
	go func() { // traffic until the test ends
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if resp, err := http.Get(front.URL); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}
	}()

	// The webhook.
	got := make(chan slackMessage, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m slackMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		select {
		case got <- m:
		default: // the test has what it needs
		}
	}))
	t.Cleanup(hook.Close)

	dir := t.TempDir()
	amPort, promPort := testsvc.Port(t), testsvc.Port(t)
	p := &plan.Plan{Name: "shop", NotifyWebhook: hook.URL + "/hooks/T000",
		Monitor: &plan.Monitor{Window: "28d", Availability: 99.9}}
	files, err := monitor.Files(p, monitor.Options{Agent: strings.TrimPrefix(metrics.URL, "http://"),
		Alertmanager: fmt.Sprintf("127.0.0.1:%d", amPort), Interval: "1s"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := monitor.WriteFiles(dir, files); err != nil {
		t.Fatal(err)
	}
	// Alertmanager waits 30s to group a new alert by default; the test cannot.
	amFile := filepath.Join(dir, monitor.AlertmanagerFile)
	am := monitor.Alertmanager(p.NotifyWebhook)
	am.Route.GroupWait = "1s"
	data, err := yaml.Marshal(am)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(amFile, data, 0o644); err != nil {
		t.Fatal(err)
	}

	testsvc.Process(t, env["PYSHIP_TEST_ALERTMANAGER_BIN"], fmt.Sprintf("http://127.0.0.1:%d/-/ready", amPort), "--config.file="+amFile,
		"--storage.path="+filepath.Join(dir, "am-data"), fmt.Sprintf("--web.listen-address=127.0.0.1:%d", amPort),
		"--cluster.listen-address=")
	testsvc.Process(t, env["PYSHIP_TEST_PROMETHEUS_BIN"], fmt.Sprintf("http://127.0.0.1:%d/-/ready", promPort), "--config.file="+filepath.Join(dir, monitor.PrometheusFile),
		"--storage.tsdb.path="+filepath.Join(dir, "prom-data"), fmt.Sprintf("--web.listen-address=127.0.0.1:%d", promPort))

	deadline := time.After(90 * time.Second)
	for {
		select {
		case m := <-got:
			if len(m.Attachments) == 0 || !strings.Contains(m.Attachments[0].Title, monitor.AlertBurnFast) {
				continue // another alert first (none is expected, but only the page matters)
			}
			a := m.Attachments[0]
			for _, want := range []string{"[FIRING", "shop", "(availability)"} {
				if !strings.Contains(a.Title, want) {
					t.Errorf("title %q lacks %q", a.Title, want)
				}
			}
			for _, want := range []string{"shop is burning its availability error budget fast", "Objective: 99.9% of requests not 5xx over 28d",
				"Error budget left: -", "Time to exhaustion at the last 1h's burn rate: none: the budget is spent"} {
				if !strings.Contains(a.Text, want) {
					t.Errorf("text %q lacks %q", a.Text, want)
				}
			}
			if m.Username != "pyship" {
				t.Errorf("username %q, want pyship", m.Username)
			}
			// The SLI Prometheus recorded from the proxy's real series: a third of the
			// requests failed.
			q := fmt.Sprintf("http://127.0.0.1:%d/api/v1/query?query=%s", promPort, url.QueryEscape(`pyship_slo:sli_error:ratio_rate5m{app="shop",slo="availability"}`))
			var res struct {
				Data struct {
					Result []struct {
						Value [2]any `json:"value"`
					} `json:"result"`
				} `json:"data"`
			}
			if err := json.Unmarshal([]byte(get(q)), &res); err != nil || len(res.Data.Result) != 1 {
				t.Fatalf("querying the recorded error ratio: %v %+v", err, res)
			}
			ratio, err := strconv.ParseFloat(fmt.Sprint(res.Data.Result[0].Value[1]), 64)
			if err != nil || ratio < 0.25 || ratio > 0.42 {
				t.Errorf("recorded error ratio %v (%v), want about 1/3", res.Data.Result[0].Value[1], err)
			}
			return
		case <-deadline:
			t.Fatalf("no %s reached the webhook in 90s; Prometheus's alerts: %s", monitor.AlertBurnFast, get(fmt.Sprintf("http://127.0.0.1:%d/api/v1/alerts", promPort)))
		}
	}
}

func get(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

package agent

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

// scrape reads the agent's /metrics with Prometheus's own text parser, so what it cannot
// parse fails the test as it would fail a scrape.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("Prometheus's parser refuses %s: %v", url, err)
	}
	return fams
}

// series returns the values of family name by the label values of keys, joined with "/".
func series(fams map[string]*dto.MetricFamily, name string, keys ...string) map[string]float64 {
	out := map[string]float64{}
	f := fams[name]
	if f == nil {
		return out
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		var k []string
		for _, key := range keys {
			k = append(k, labels[key])
		}
		out[strings.Join(k, "/")] = m.GetGauge().GetValue()
	}
	return out
}

// TestReleaseSeriesAcrossDeploys follows pyship_release_info, pyship_traffic_weight and
// pyship_release_started_timestamp_seconds on the admin /metrics through a rolling deploy and
// then a canary one, under load.
func TestReleaseSeriesAcrossDeploys(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	c := startAgent(t, home)
	pub := port(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", pub)
	m1 := build(t, home, stdlibPlan(stdlibApp(t, ""), `v1 "quoted" é`, "rolling", pub))
	before := time.Now()
	if ev := deploy(t, c, m1); ev.Final.Phase != rollout.Succeeded {
		t.Fatalf("v1: %+v", ev.Final)
	}
	after := time.Now()
	st, err := c.Status(t.Context(), "stdapp")
	if err != nil {
		t.Fatal(err)
	}
	metrics := st[0].Metrics
	fams := scrape(t, metrics)
	if got, want := series(fams, "pyship_release_info", "app", "release", "version", "strategy"),
		map[string]float64{"stdapp/" + m1.ID + `/v1 "quoted" é/rolling`: 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after the rolling deploy pyship_release_info = %v, want %v", got, want)
	}
	if got := series(fams, "pyship_traffic_weight", "release"); fmt.Sprint(got) != fmt.Sprint(map[string]float64{m1.ID: 100}) {
		t.Errorf("pyship_traffic_weight = %v, want %s at 100", got, m1.ID)
	}
	started := series(fams, "pyship_release_started_timestamp_seconds", "app", "release")["stdapp/"+m1.ID]
	if s := time.UnixMilli(int64(started * 1000)); s.Before(before.Truncate(time.Millisecond)) || s.After(after) {
		t.Errorf("pyship_release_started_timestamp_seconds of %s = %v, want between %v and %v", m1.ID, s, before, after)
	}

	l := startLoad(url, 4)
	defer l.stop()
	l.waitFor(t, 20)
	p2 := stdlibPlan(stdlibApp(t, ""), "v2", "canary", pub)
	p2.Deploy.Canary.Pause = "4s"
	m2 := build(t, home, p2)
	done := make(chan Event, 1)
	go func() {
		final, _ := c.Deploy(t.Context(), DeployRequest{App: "stdapp", Release: m2.ID}, func(Event) {})
		done <- final
	}()
	// At the canary's first step both releases run, with weights 25 and 75.
	testsvc.Eventually(t, 60*time.Second, "the canary's first step on /metrics", func() error {
		fams := scrape(t, metrics)
		w := series(fams, "pyship_traffic_weight", "release")
		info := series(fams, "pyship_release_info", "release", "strategy")
		if w[m2.ID] != 25 || w[m1.ID] != 75 || info[m2.ID+"/canary"] != 1 || info[m1.ID+"/rolling"] != 1 {
			return fmt.Errorf("weights %v, info %v", w, info)
		}
		return nil
	})
	var ev Event
	select {
	case ev = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the canary deploy did not end within 2 minutes")
	}
	if ev.Final == nil || ev.Final.Phase != rollout.Succeeded {
		t.Fatalf("v2: %+v", ev)
	}
	// Once the old replicas are gone, only the canary release is left, with all the traffic.
	testsvc.Eventually(t, 30*time.Second, "v1 to leave /metrics", func() error {
		fams := scrape(t, metrics)
		w := series(fams, "pyship_traffic_weight", "release")
		info := series(fams, "pyship_release_info", "release", "version", "strategy")
		s := series(fams, "pyship_release_started_timestamp_seconds", "release")
		if fmt.Sprint(w) != fmt.Sprint(map[string]float64{m2.ID: 100}) ||
			fmt.Sprint(info) != fmt.Sprint(map[string]float64{m2.ID + "/v2/canary": 1}) || len(s) != 1 || s[m2.ID] <= started {
			return fmt.Errorf("weights %v, info %v, started %v", w, info, s)
		}
		return nil
	})
}

// TestLabelValueParses: label values are escaped as Prometheus's text format wants them, so
// a version with quotes, backslashes, newlines, tabs or non-ASCII text never breaks a scrape.
func TestLabelValueParses(t *testing.T) {
	for _, v := range []string{"plain", `a"b`, `back\slash`, "new\nline", "tab\there", "é ü 日本", `\"`, ""} {
		text := fmt.Sprintf("# TYPE x gauge\nx{version=\"%s\"} 1\n", labelValue(v))
		var p expfmt.TextParser
		fams, err := p.TextToMetricFamilies(strings.NewReader(text))
		if err != nil {
			t.Errorf("%q: %v", v, err)
			continue
		}
		if got := fams["x"].GetMetric()[0].GetLabel()[0].GetValue(); got != v {
			t.Errorf("%q reads back as %q", v, got)
		}
	}
}

// TestReleaseSeriesSurviveAgentRestart: a restarted agent, which takes the running replicas
// back, reports the same release series: the strategy and deploy start are in the app's state.
func TestReleaseSeriesSurviveAgentRestart(t *testing.T) {
	t.Parallel()
	home := newHome(t)
	c, _, shutdown := runAgent(t, home)
	p := stdlibPlan(stdlibApp(t, ""), "v1", "blue-green", port(t))
	p.Deploy.Replicas = 1
	m := build(t, home, p)
	if ev := deploy(t, c, m); ev.Final.Phase != rollout.Succeeded {
		t.Fatalf("deploy: %+v", ev.Final)
	}
	read := func(c *Client) string {
		st, err := c.Status(t.Context(), "stdapp")
		if err != nil {
			t.Fatal(err)
		}
		fams := scrape(t, st[0].Metrics)
		return fmt.Sprint(series(fams, "pyship_release_info", "release", "version", "strategy"),
			series(fams, "pyship_release_started_timestamp_seconds", "release"), series(fams, "pyship_traffic_weight", "release"))
	}
	before := read(c)
	if !strings.Contains(before, m.ID+"/v1/blue-green:1") {
		t.Fatalf("before the restart: %s", before)
	}
	shutdown() // the replica keeps running
	c = startAgent(t, home)
	testsvc.Eventually(t, 30*time.Second, "the restarted agent to report the same release series", func() error {
		if after := read(c); after != before {
			return fmt.Errorf("%s, was %s", after, before)
		}
		return nil
	})
}

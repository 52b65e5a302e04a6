package kube

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/monitor/promql"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/testsvc"
)

// TestCanaryChecksAskTheRealPrometheus wires a canary on the cluster to the shared real
// Prometheus, which scrapes the pyship_* series of the app's releases as the proxy sidecar
// exports them (the test cluster runs no containers, so an exporter stands in for the
// sidecars): the check's placeholders resolve to the cluster's namespace and the canary, its
// value fails the step, and the canary is rolled back with the check's explanation.
func TestCanaryChecksAskTheRealPrometheus(t *testing.T) {
	c := newCluster(t)
	p := appPlan("pc", "canary")
	v1 := c.render(t, p, Options{Image: image("a1")})
	v2 := c.render(t, p, Options{Image: image("b2")})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "# TYPE pyship_requests_total counter\n"+
			"pyship_requests_total{namespace=%[1]q,app=\"pc\",release=%[2]q,code=\"200\"} 900\n"+
			"pyship_requests_total{namespace=%[1]q,app=\"pc\",release=%[3]q,code=\"200\"} 60\n"+
			"pyship_requests_total{namespace=%[1]q,app=\"pc\",release=%[3]q,code=\"503\"} 40\n",
			c.Namespace, v1.Release, v2.Release)
	}))
	defer srv.Close()
	url, _ := testsvc.Scrape(t, strings.TrimPrefix(srv.URL, "http://"))
	pc, err := promql.New(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	errRatio := `sum(pyship_requests_total{namespace="{{namespace}}",app="{{app}}",release="{{release}}",code=~"5.."}) / sum(pyship_requests_total{namespace="{{namespace}}",app="{{app}}",release="{{release}}"})`
	testsvc.Eventually(t, 30*time.Second, "the shared Prometheus to scrape the releases' series", func() error {
		_, err := pc.Value(context.Background(), promql.Resolve(errRatio, promql.Vars{App: "pc", Namespace: c.Namespace, Release: v2.Release}))
		return err
	})
	opts := DeployOptions{Replicas: 2, Steps: []int{50, 100}, Prune: true, Progress: logProgress(t), MinRequests: 10, MaxErrorRate: 1, MaxLatencyRatio: 2,
		Prometheus: pc, Metrics: (&Prometheus{Client: pc, Namespace: c.Namespace, App: "pc"}).Metrics}
	if err := c.Deploy(ctxFor(t, time.Minute), v1, opts); err != nil {
		t.Fatal(err)
	}
	limit := 0.1
	opts.Checks = []rollout.Check{{Name: "canary-5xx", Query: errRatio, Max: &limit}}
	err = c.Deploy(ctxFor(t, time.Minute), v2, opts)
	if err == nil || !strings.Contains(err.Error(), "canary analysis failed: check canary-5xx: 0.4 is above the max 0.1") || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("deploying a canary whose check fails: %v, want the check's verdict and a rollback", err)
	}
	st, _ := c.ReadState(ctxFor(t, 5*time.Second), "pc")
	if st.Active != v1.Release || st.Failed != v2.Release {
		t.Errorf("after the failed check: active %q failed %q", st.Active, st.Failed)
	}
}

package agent

import (
	"context"
	"fmt"

	"github.com/pyship/pyship/internal/monitor/promql"
)

// prometheus answers the canary's PromQL checks for the release being deployed, asking the
// Prometheus its plan names ([deploy.canary] prometheus_url), else the one `pyship monitor up`
// runs (Agent.MonitorPrometheus). With neither, every check is unreachable and says how to set
// one: an unmeasured canary is never promoted by its checks.
type prometheus struct{ rt *app }

func (p prometheus) Value(ctx context.Context, query string) (float64, error) {
	url, err := p.rt.prometheusURL()
	if err != nil {
		return 0, err
	}
	c, err := promql.New(url, nil)
	if err != nil {
		return 0, fmt.Errorf("%w: [deploy.canary] prometheus_url: %v", promql.ErrUnreachable, err)
	}
	return c.Value(ctx, query)
}

func (rt *app) prometheusURL() (string, error) {
	rt.mu.Lock()
	release := ""
	if rt.st.Deploy != nil {
		release = rt.st.Deploy.Spec.Release
	}
	rt.mu.Unlock()
	if m, err := rt.manifest(release); err == nil && m.Plan.Deploy.Canary != nil && m.Plan.Deploy.Canary.PrometheusURL != "" {
		return m.Plan.Deploy.Canary.PrometheusURL, nil
	}
	monitored := rt.a.prometheusURL
	if rt.a.MonitorPrometheus != nil {
		monitored = rt.a.MonitorPrometheus
	}
	if url := monitored(); url != "" {
		return url, nil
	}
	return "", fmt.Errorf("%w: no Prometheus to ask: set [deploy.canary] prometheus_url, or run `pyship monitor up`", promql.ErrUnreachable)
}

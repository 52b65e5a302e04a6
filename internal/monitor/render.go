package monitor

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/google/renameio/v2"
	"github.com/pyship/pyship/internal/plan"
	"gopkg.in/yaml.v3"
)

// File is one generated artefact: its name inside the output folder and its content.
type File struct {
	Name string
	Data []byte
	// Private files hold a credential (the webhook URL, a bearer secret for Slack and the
	// like) and are written readable by their owner only.
	Private bool
}

// Artefact file names.
const (
	RulesFile        = "rules.yml"
	AlertmanagerFile = "alertmanager.yml"
	PrometheusFile   = "prometheus.yml"
	DashboardFile    = "dashboard.json"
)

// Options are the addresses the generated files point at.
type Options struct {
	// Agent is the local agent's admin address serving /metrics (default 127.0.0.1:9180).
	Agent string
	// Alertmanager is the address Prometheus sends alerts to (default 127.0.0.1:9093).
	Alertmanager string
	// Interval is the scrape and rule evaluation interval (default 15s).
	Interval string
	// ExtraRuleFiles are more rule files (globs, relative to the configuration's folder)
	// Prometheus loads beside rules.yml: the user's own rules.
	ExtraRuleFiles []string
	// Dashboard renders the app's Grafana dashboard; nil leaves dashboard.json out. It is the
	// seam for internal/monitor/dashboard (dashboard.JSON).
	Dashboard func(p *plan.Plan) ([]byte, error)
}

// Files returns every artefact of the app on the local target: rules.yml (SLO rules, burn-rate
// alerts and PyshipAppDown), alertmanager.yml, prometheus.yml and, with a Dashboard,
// dashboard.json.
func Files(p *plan.Plan, o Options) ([]File, error) {
	if o.Agent == "" {
		o.Agent = "127.0.0.1:9180"
	}
	if o.Alertmanager == "" {
		o.Alertmanager = "127.0.0.1:9093"
	}
	if o.Interval == "" {
		o.Interval = "15s"
	}
	rules, err := Rules(p.Name, p.Monitor, RuleOptions{AppDown: true})
	if err != nil {
		return nil, fmt.Errorf("generating the rules of %s: %w", p.Name, err)
	}
	files, err := yamlFiles([]yamlFile{
		{RulesFile, rules, false},
		{AlertmanagerFile, Alertmanager(p.NotifyWebhook), p.NotifyWebhook != ""},
		{PrometheusFile, Prometheus(ScrapeOptions{Agent: o.Agent, Alertmanager: o.Alertmanager, RuleFiles: []string{RulesFile}, Interval: o.Interval}), false},
	})
	if err != nil {
		return nil, err
	}
	if o.Dashboard != nil {
		data, err := o.Dashboard(p)
		if err != nil {
			return nil, fmt.Errorf("generating the dashboard of %s: %w", p.Name, err)
		}
		files = append(files, File{Name: DashboardFile, Data: data})
	}
	return files, nil
}

// StackFiles returns the configuration of one Prometheus and one Alertmanager serving every
// app of the local agent (plans by app name): rules.yml with each app's SLO rules, burn-rate
// alerts and PyshipAppDown, alertmanager.yml routing each app's alerts to its [notify]
// webhook, and prometheus.yml scraping the agent at o.Agent. `pyship monitor up` runs them.
func StackFiles(plans map[string]*plan.Plan, o Options) ([]File, error) {
	o.Interval = cmp.Or(o.Interval, "15s")
	var rules RuleFile
	webhooks := map[string]string{}
	for _, app := range slices.Sorted(maps.Keys(plans)) {
		p := plans[app]
		r, err := Rules(app, p.Monitor, RuleOptions{AppDown: true})
		if err != nil {
			return nil, fmt.Errorf("generating the rules of %s: %w", app, err)
		}
		rules.Groups = append(rules.Groups, r.Groups...)
		webhooks[app] = p.NotifyWebhook
	}
	return yamlFiles([]yamlFile{
		{RulesFile, rules, false},
		{AlertmanagerFile, AlertmanagerApps(webhooks), true}, // webhook URLs are credentials
		{PrometheusFile, Prometheus(ScrapeOptions{Agent: o.Agent, Alertmanager: o.Alertmanager,
			RuleFiles: append([]string{RulesFile}, o.ExtraRuleFiles...), Interval: o.Interval}), false},
	})
}

// yamlFile is a generated file before it is written as YAML; private ones are 0600.
type yamlFile struct {
	name    string
	v       any
	private bool
}

func yamlFiles(in []yamlFile) ([]File, error) {
	files := make([]File, 0, len(in))
	for _, a := range in {
		data, err := marshalYAML(a.v)
		if err != nil {
			return nil, fmt.Errorf("writing %s: %w", a.name, err)
		}
		files = append(files, File{Name: a.name, Data: data, Private: a.private})
	}
	return files, nil
}

// WriteFiles writes files into dir (created if missing) and returns the paths written. Every
// file is written in full to a temporary file first; only then are they renamed into place,
// each atomically: a failed write leaves the folder as it was, and a reader sees each file old
// or new, never half of one.
func WriteFiles(dir string, files []File) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	pending := make([]*renameio.PendingFile, 0, len(files))
	defer func() {
		for _, p := range pending {
			p.Cleanup() // a no-op once replaced
		}
	}()
	var paths []string
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		mode := os.FileMode(0o644)
		if f.Private {
			mode = 0o600
		}
		p, err := renameio.NewPendingFile(path, renameio.WithPermissions(mode))
		if err != nil {
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
		pending = append(pending, p)
		if _, err := p.Write(f.Data); err != nil {
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
		paths = append(paths, path)
	}
	for i, p := range pending {
		if err := p.CloseAtomicallyReplace(); err != nil {
			return paths[:i], fmt.Errorf("writing %s: %w", paths[i], err)
		}
	}
	return paths, nil
}

// marshalYAML writes v as YAML with two-space indentation, fields in struct order.
func marshalYAML(v any) ([]byte, error) {
	var b bytes.Buffer
	e := yaml.NewEncoder(&b)
	e.SetIndent(2)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	if err := e.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

package monitor

// PrometheusConfig is the part of Prometheus's configuration file pyship writes.
type PrometheusConfig struct {
	Global        Global         `json:"global" yaml:"global"`
	RuleFiles     []string       `json:"rule_files,omitempty" yaml:"rule_files,omitempty"`
	Alerting      *Alerting      `json:"alerting,omitempty" yaml:"alerting,omitempty"`
	ScrapeConfigs []ScrapeConfig `json:"scrape_configs" yaml:"scrape_configs"`
}

// Global holds the default scrape and rule evaluation intervals.
type Global struct {
	ScrapeInterval     string `json:"scrape_interval" yaml:"scrape_interval"`
	EvaluationInterval string `json:"evaluation_interval" yaml:"evaluation_interval"`
}

// Alerting names the Alertmanagers alerts are sent to.
type Alerting struct {
	Alertmanagers []AlertmanagerTarget `json:"alertmanagers" yaml:"alertmanagers"`
}

// AlertmanagerTarget is one set of Alertmanager addresses.
type AlertmanagerTarget struct {
	StaticConfigs []StaticConfig `json:"static_configs" yaml:"static_configs"`
}

// ScrapeConfig is one scrape job.
type ScrapeConfig struct {
	JobName       string         `json:"job_name" yaml:"job_name"`
	MetricsPath   string         `json:"metrics_path,omitempty" yaml:"metrics_path,omitempty"`
	StaticConfigs []StaticConfig `json:"static_configs" yaml:"static_configs"`
}

// StaticConfig is a list of host:port targets.
type StaticConfig struct {
	Targets []string `json:"targets" yaml:"targets"`
}

// ScrapeJob is the job scraping the local agent (PyshipAppDown watches its up series).
const ScrapeJob = "pyship"

// ScrapeOptions say where things are.
type ScrapeOptions struct {
	// Agent is the local agent's admin address (host:port) serving /metrics.
	Agent string
	// Alertmanager is the host:port alerts are sent to; "" sends them nowhere.
	Alertmanager string
	// RuleFiles are the rule files, relative to the configuration file's folder.
	RuleFiles []string
	// Interval is the scrape and evaluation interval, e.g. "15s".
	Interval string
}

// Prometheus is a configuration scraping the local agent's /metrics (every app's request
// series and replica readiness) and evaluating the rule files.
func Prometheus(o ScrapeOptions) PrometheusConfig {
	c := PrometheusConfig{
		Global:    Global{ScrapeInterval: o.Interval, EvaluationInterval: o.Interval},
		RuleFiles: o.RuleFiles,
		ScrapeConfigs: []ScrapeConfig{{JobName: ScrapeJob, MetricsPath: "/metrics",
			StaticConfigs: []StaticConfig{{Targets: []string{o.Agent}}}}},
	}
	if o.Alertmanager != "" {
		c.Alerting = &Alerting{Alertmanagers: []AlertmanagerTarget{{StaticConfigs: []StaticConfig{{Targets: []string{o.Alertmanager}}}}}}
	}
	return c
}

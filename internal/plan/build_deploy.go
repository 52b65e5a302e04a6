package plan

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/rollout"
)

func (b *builder) health() {
	h := &b.p.Health
	web := b.p.Run.Kind == "web"
	switch {
	case b.sp.Health.Type != "":
		h.Type = b.sp.Health.Type
		b.ev("health.type", b.specEv("health.type", "spec [health] type"))
	case web:
		h.Type = "http"
		b.ev("health.type", Evidence{Rule: "web app: HTTP check"})
	default:
		h.Type = "process"
		b.ev("health.type", Evidence{Rule: "worker: the process being alive"})
	}
	if h.Type == "http" {
		switch {
		case b.sp.Health.Path != "":
			h.Path = b.sp.Health.Path
			b.ev("health.path", b.specEv("health.path", "spec [health] path"))
		case b.proj.HealthPath.Value != "":
			h.Path = b.proj.HealthPath.Value
			b.ev("health.path", fromDetect(b.proj.HealthPath.Evidence))
		default:
			h.Path = DefaultHealthPath
			b.ev("health.path", def("no /healthz, /health, /livez or /ready route found"))
		}
	}
	if h.Type != "http" && b.sp.Health.Path != "" {
		why, fix := fmt.Sprintf("[health] type is %q", h.Type), `set [health] type = "http"`
		if !web {
			why, fix = "the app is a worker, checked by its process being alive", `serve HTTP and set [run] kind = "web"`
		}
		b.warnf("%s: [health] path %q is ignored: %s, so no HTTP request is made; remove it, or %s", location(b.specEv("health.path", "")), b.sp.Health.Path, why, fix)
	}
	h.Interval = b.duration("health.interval", "spec [health] interval", b.sp.Health.Interval, DefaultInterval)
	h.Timeout = b.duration("health.timeout", "spec [health] timeout", b.sp.Health.Timeout, DefaultTimeout)
	h.StartupTimeout = b.durationAt("health.startupTimeout", "health.startup_timeout", "spec [health] startup_timeout", b.sp.Health.StartupTimeout, DefaultStartupTimeout)
}

// duration picks the spec duration or the default, recording evidence under key.
func (b *builder) duration(key, rule string, v time.Duration, dflt string) string {
	return b.durationAt(key, key, rule, v, dflt)
}

func (b *builder) durationAt(key, specKey, rule string, v time.Duration, dflt string) string {
	if v == 0 {
		b.ev(key, def(""))
		return dflt
	}
	b.ev(key, b.specEv(specKey, rule))
	return FormatDuration(v)
}

// FormatDuration writes d in Go syntax without zero units: "10m", "1h30m", "2.5s".
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func (b *builder) folders() {
	if b.sp.Config.Dir != "" {
		b.p.Config = &Folder{Path: cleanDir(b.sp.Config.Dir)}
		b.ev("config", b.specEv("config.dir", "spec [config] dir"))
	} else if b.proj.ConfigDir.Value != "" {
		b.p.Config = &Folder{Path: b.proj.ConfigDir.Value}
		b.ev("config", fromDetect(b.proj.ConfigDir.Evidence))
	}
	seen := map[string]bool{}
	add := func(p string, persistent bool) {
		p = cleanDir(p)
		if !seen[p] {
			seen[p] = true
			b.p.Data = append(b.p.Data, DataFolder{Path: p, Persistent: persistent})
		}
	}
	for _, d := range b.sp.Data.Persistent {
		add(d, true)
	}
	for _, d := range b.sp.Data.Static {
		add(d, false)
	}
	switch {
	case len(b.sp.Data.Persistent) > 0:
		b.ev("data", b.specEv("data.persistent", "spec [data] persistent"))
	case len(b.sp.Data.Static) > 0:
		b.ev("data", b.specEv("data.static", "spec [data] static"))
	}
	if d := b.proj.DataDir; d.Value != "" && !seen[d.Value] {
		add(d.Value, true)
		if _, ok := b.p.Evidence["data"]; !ok {
			e := fromDetect(d.Evidence)
			e.Rule += ": persistent unless [data] static lists it"
			b.ev("data", e)
		}
	}
}

// cleanDir normalises a project-relative folder ("./data/" → "data").
func cleanDir(p string) string {
	return strings.TrimSuffix(path.Clean(strings.TrimPrefix(p, "./")), "/")
}

func (b *builder) env() {
	for k, v := range b.sp.Env {
		b.p.Env[k] = v
		b.ev("env."+k, b.specEv("env."+k, "spec [env] "+k))
	}
	if b.p.Run.Kind != "web" {
		return
	}
	port := strconv.Itoa(b.p.Run.Port)
	if v, ok := b.sp.Env["PORT"]; ok && v != port {
		b.warnf("%s: [env] PORT = %q is replaced by the app's port %s; set [run] port instead", location(b.specEv("env.PORT", "")), v, port)
	}
	b.p.Env["PORT"] = port
	b.ev("env.PORT", Evidence{Rule: "the app always gets its port in $PORT (run.port)"})
}

func (b *builder) build() {
	bd := &b.p.Build
	if b.sp.Build.Base != "" {
		bd.Base = b.sp.Build.Base
		b.ev("build.base", b.specEv("build.base", "spec [build] base"))
	} else {
		bd.Base = "python:" + majorMinor(b.p.Python.Version) + "-slim"
		b.ev("build.base", def("official slim image of python.version"))
	}
	if b.sp.Build.Registry != "" {
		bd.Registry = b.sp.Build.Registry
		b.ev("build.registry", b.specEv("build.registry", "spec [build] registry"))
	}
	if len(b.sp.Build.Exclude) > 0 {
		bd.Exclude = append([]string(nil), b.sp.Build.Exclude...)
		b.ev("build.exclude", b.specEv("build.exclude", "spec [build] exclude"))
	}
	if b.sp.Secrets.File != "" {
		b.p.SecretsFile = b.sp.Secrets.File
		b.ev("secretsFile", b.specEv("secrets.file", "spec [secrets] file"))
	}
	if b.sp.Notify.Webhook != "" {
		b.p.NotifyWebhook = b.sp.Notify.Webhook
		b.ev("notifyWebhook", b.specEv("notify.webhook", "spec [notify] webhook"))
	}
}

func (b *builder) deploy() {
	sd := b.sp.Deploy
	d := &b.p.Deploy
	str := func(key, specKey, rule, v, dflt string) string {
		if v == "" {
			b.ev(key, def(""))
			return dflt
		}
		b.ev(key, b.specEv(specKey, rule))
		return v
	}
	d.Target = str("deploy.target", "deploy.target", "spec [deploy] target", sd.Target, DefaultTarget)
	d.Strategy = rollout.Strategy(str("deploy.strategy", "deploy.strategy", "spec [deploy] strategy", sd.Strategy, DefaultStrategy))
	d.Replicas = DefaultReplicas
	b.ev("deploy.replicas", def(""))
	if sd.Replicas != 0 {
		d.Replicas = sd.Replicas
		b.ev("deploy.replicas", b.specEv("deploy.replicas", "spec [deploy] replicas"))
	}
	d.KeepReleases = DefaultKeepReleases
	b.ev("deploy.keepReleases", def(""))
	if sd.KeepReleases != 0 {
		d.KeepReleases = sd.KeepReleases
		b.ev("deploy.keepReleases", b.specEv("deploy.keep_releases", "spec [deploy] keep_releases"))
	}
	d.DrainTimeout = b.durationAt("deploy.drainTimeout", "deploy.drain_timeout", "spec [deploy] drain_timeout", sd.DrainTimeout, DefaultDrainTimeout)
	d.RollbackWindow = b.durationAt("deploy.rollbackWindow", "deploy.rollback_window", "spec [deploy] rollback_window", sd.RollbackWindow, DefaultRollbackWindow)
	d.RequestTimeout = b.durationAt("deploy.requestTimeout", "deploy.request_timeout", "spec [deploy] request_timeout", sd.RequestTimeout, DefaultRequestTimeout)
	d.Sticky = sd.Sticky
	if sd.Sticky {
		b.ev("deploy.sticky", b.specEv("deploy.sticky", "spec [deploy] sticky"))
	} else {
		b.ev("deploy.sticky", def(""))
	}
	d.BackupBefore = sd.BackupBefore
	if sd.BackupBefore {
		b.ev("deploy.backupBefore", b.specEv("deploy.backup_before", "spec [deploy] backup_before"))
	} else {
		b.ev("deploy.backupBefore", def(""))
	}
	if d.Strategy == rollout.Recreate && sd.Sticky {
		b.warnf("%s: [deploy] sticky does nothing with the recreate strategy: only one release runs at a time; remove it", location(b.specEv("deploy.sticky", "")))
	}
	if d.Strategy != "canary" {
		if len(sd.Canary.Steps) > 0 || sd.Canary.Pause != 0 || sd.Canary.PrometheusURL != "" || len(sd.Canary.Checks) > 0 || sd.Canary.MaxBurnRate != 0 {
			b.warnf("%s: [deploy.canary] is ignored because the strategy is %s; set [deploy] strategy = \"canary\" or remove it", location(b.specEv("deploy.canary.steps", "")), d.Strategy)
		}
		return
	}
	c := DefaultCanary()
	var set []string
	if len(sd.Canary.Steps) > 0 {
		c.Steps, set = append([]int(nil), sd.Canary.Steps...), append(set, "steps")
	}
	if sd.Canary.Pause != 0 {
		c.Pause, set = FormatDuration(sd.Canary.Pause), append(set, "pause")
	}
	if sd.Canary.MinRequests != 0 {
		c.MinRequests, set = sd.Canary.MinRequests, append(set, "min_requests")
	}
	if sd.Canary.MaxErrorRate != 0 {
		c.MaxErrorRate, set = sd.Canary.MaxErrorRate, append(set, "max_error_rate")
	}
	if sd.Canary.MaxLatencyRatio != 0 {
		c.MaxLatencyRatio, set = sd.Canary.MaxLatencyRatio, append(set, "max_latency_ratio")
	}
	if sd.Canary.PrometheusURL != "" {
		c.PrometheusURL, set = sd.Canary.PrometheusURL, append(set, "prometheus_url")
	}
	if sd.Canary.NoTraffic != "" {
		c.NoTraffic, set = sd.Canary.NoTraffic, append(set, "no_traffic")
	}
	if sd.Canary.NoTrafficAfter != 0 {
		c.NoTrafficAfter, set = FormatDuration(sd.Canary.NoTrafficAfter), append(set, "no_traffic_after")
	}
	for _, ch := range sd.Canary.Checks {
		c.Checks = append(c.Checks, CanaryCheck{Name: ch.Name, Query: ch.Query, Max: ch.Max, Min: ch.Min})
	}
	if len(c.Checks) > 0 {
		set = append(set, "checks")
	}
	if sd.Canary.MaxBurnRate != 0 {
		c.MaxBurnRate, c.Availability, set = sd.Canary.MaxBurnRate, b.sp.Monitor.Availability, append(set, "max_burn_rate")
	}
	d.Canary = &c
	if measured := len(c.Checks) > 0 || c.MaxBurnRate > 0; measured && c.PrometheusURL == "" && d.Target == "kubernetes" {
		b.warnf("the canary's [[deploy.canary.checks]] and max_burn_rate need a Prometheus, and [deploy.canary] prometheus_url is not set: every step would be inconclusive and the deploy rolled back after no_traffic_after; set prometheus_url")
	} else if measured && c.PrometheusURL == "" {
		b.warnf("the canary's [[deploy.canary.checks]] and max_burn_rate ask the Prometheus `pyship monitor up` runs, as [deploy.canary] prometheus_url is not set: without one every step is inconclusive and the deploy rolls back after no_traffic_after")
	}
	if d.Target == "kubernetes" && c.PrometheusURL == "" {
		if pause, _ := time.ParseDuration(c.Pause); pause == 0 {
			b.warnf("the canary on Kubernetes neither pauses nor measures anything (no [deploy.canary] pause, no prometheus_url): it would go through its steps at once; set pause, or prometheus_url to judge each step by the canary's metrics")
		} else {
			b.warnf("the canary on Kubernetes has no [deploy.canary] prometheus_url, so nothing measures its errors or latency: each step only waits %s with its pods healthy; set prometheus_url to judge it by its metrics", c.Pause)
		}
	}
	if len(set) == 0 {
		b.ev("deploy.canary", def("strategy is canary"))
		return
	}
	sort.Strings(set)
	e := b.specEv("deploy.canary."+set[0], "spec [deploy.canary] "+strings.Join(set, ", "))
	if len(set) < 10 {
		e.Note = "the other canary settings are defaults"
	}
	b.ev("deploy.canary", e)
	for _, k := range set {
		jsonKey := map[string]string{"steps": "steps", "pause": "pause", "min_requests": "minRequests", "max_error_rate": "maxErrorRate", "max_latency_ratio": "maxLatencyRatio", "prometheus_url": "prometheusUrl", "no_traffic": "noTraffic", "no_traffic_after": "noTrafficAfter", "checks": "checks", "max_burn_rate": "maxBurnRate"}[k]
		b.ev("deploy.canary."+jsonKey, b.specEv("deploy.canary."+k, fmt.Sprintf("spec [deploy.canary] %s", k)))
	}
}

// kubernetes copies the spec's [kubernetes] keys, each with its evidence.
func (b *builder) kubernetes() {
	sk := b.sp.Kubernetes
	var k Kubernetes
	set := false
	for _, f := range []struct {
		jsonKey, specKey string
		copy             func() bool
	}{
		{"namespace", "namespace", func() bool { return kubeKey(&k.Namespace, sk.Namespace) }},
		{"context", "context", func() bool { return kubeKey(&k.Context, sk.Context) }},
		{"host", "host", func() bool { return kubeKey(&k.Host, sk.Host) }},
		{"tlsSecret", "tls_secret", func() bool { return kubeKey(&k.TLSSecret, sk.TLSSecret) }},
		{"clusterIssuer", "cluster_issuer", func() bool { return kubeKey(&k.ClusterIssuer, sk.ClusterIssuer) }},
		{"ingressClass", "ingress_class", func() bool { return kubeKey(&k.IngressClass, sk.IngressClass) }},
		{"gateway", "gateway", func() bool { return kubeKey(&k.Gateway, sk.Gateway) }},
		{"cpu", "cpu", func() bool { return kubeKey(&k.CPU, sk.CPU) }},
		{"memory", "memory", func() bool { return kubeKey(&k.Memory, sk.Memory) }},
		{"cpuLimit", "cpu_limit", func() bool { return kubeKey(&k.CPULimit, sk.CPULimit) }},
		{"memoryLimit", "memory_limit", func() bool { return kubeKey(&k.MemoryLimit, sk.MemoryLimit) }},
		{"maxReplicas", "max_replicas", func() bool { return kubeKey(&k.MaxReplicas, sk.MaxReplicas) }},
		{"targetCPU", "target_cpu", func() bool { return kubeKey(&k.TargetCPU, sk.TargetCPU) }},
		{"storageClass", "storage_class", func() bool { return kubeKey(&k.StorageClass, sk.StorageClass) }},
		{"storageSize", "storage_size", func() bool { return kubeKey(&k.StorageSize, sk.StorageSize) }},
		{"accessMode", "access_mode", func() bool { return kubeKey(&k.AccessMode, sk.AccessMode) }},
		{"monitoring", "monitoring", func() bool { return kubeKey(&k.Monitoring, sk.Monitoring) }},
		{"agentBase", "agent_base", func() bool { return kubeKey(&k.AgentBase, sk.AgentBase) }},
		{"proxySidecar", "proxy_sidecar", func() bool {
			if _, ok := b.sp.Positions["kubernetes.proxy_sidecar"]; !ok {
				return false // unset: on when something reads the sidecar's series
			}
			k.ProxySidecar = &sk.ProxySidecar
			return true
		}},
	} {
		if f.copy() {
			set = true
			b.ev("kubernetes."+f.jsonKey, b.specEv("kubernetes."+f.specKey, "spec [kubernetes] "+f.specKey))
		}
	}
	if k.MaxReplicas != 0 && k.MaxReplicas < b.p.Deploy.Replicas {
		b.warnf("%s: [kubernetes] max_replicas %d is below [deploy] replicas %d: no autoscaler is rendered; raise max_replicas or remove it",
			location(b.specEv("kubernetes.max_replicas", "")), k.MaxReplicas, b.p.Deploy.Replicas)
	}
	b.sharedVolumes(k)
	if set {
		b.p.Kubernetes = &k
	}
}

// sharedVolumes warns when a ReadWriteOnce volume of a persistent data folder must be
// mounted by more than one pod at a time on Kubernetes: a volume that attaches to one node
// leaves the pods scheduled elsewhere Pending, and a rollout then never completes. Rolling
// needs it twice with one replica (its new pod starts before the old one stops); one replica
// with the recreate strategy never does.
func (b *builder) sharedVolumes(k Kubernetes) {
	d := b.p.Deploy
	if d.Target != "kubernetes" || k.AccessMode == "ReadWriteMany" {
		return
	}
	var folders []string
	for _, f := range b.p.Data {
		if f.Persistent {
			folders = append(folders, f.Path+"/")
		}
	}
	var why, key string
	switch {
	case len(folders) == 0:
		return
	case d.Replicas > 1:
		why, key = fmt.Sprintf("%d replicas", d.Replicas), "deploy.replicas"
	case k.MaxReplicas > 1:
		why, key = fmt.Sprintf("an autoscaler up to %d replicas", k.MaxReplicas), "kubernetes.max_replicas"
	case d.Strategy == rollout.Recreate:
		return // one pod, and the old one is gone before the new one starts
	case d.Strategy == rollout.Rolling:
		why, key = "the rolling strategy (its new pod starts before the old one stops)", "deploy.strategy"
	default:
		why, key = "the "+string(d.Strategy)+" strategy (two releases' pods at once)", "deploy.strategy"
	}
	b.warnf("%s: persistent data %s is a ReadWriteOnce volume on Kubernetes, but %s need it at once: on a cluster of several nodes the pods scheduled away from the volume's node stay Pending and the rollout never completes; set [kubernetes] access_mode = \"ReadWriteMany\" with a storage_class that offers it (NFS, CephFS, EFS...), or [deploy] replicas = 1 with strategy = \"recreate\" (the old pod is gone before the new one starts: downtime during each deploy), or keep the data in a database or object store",
		location(b.specEv(key, "")), strings.Join(folders, ", "), why)
}

// edge copies the spec's [edge] keys, each with its evidence.
func (b *builder) edge() {
	se := b.sp.Edge
	e := Edge{Hosts: se.Hosts, Allow: se.Allow, BasicAuth: se.BasicAuth, RateLimit: se.RateLimit,
		ACMEEmail: se.ACMEEmail, ACMEDirectory: se.ACMEDirectory, CertFile: se.CertFile, KeyFile: se.KeyFile, HSTS: se.HSTS}
	if se.TLS != "off" {
		e.TLS = se.TLS
	}
	set := false
	for _, f := range []struct {
		jsonKey, specKey string
		isSet            bool
	}{
		{"hosts", "hosts", len(e.Hosts) > 0},
		{"allow", "allow", len(e.Allow) > 0},
		{"basicAuth", "basic_auth", e.BasicAuth != ""},
		{"rateLimit", "rate_limit", e.RateLimit != 0},
		{"tls", "tls", e.TLS != ""},
		{"acmeEmail", "acme_email", e.ACMEEmail != ""},
		{"acmeDirectory", "acme_directory", e.ACMEDirectory != ""},
		{"certFile", "cert_file", e.CertFile != ""},
		{"keyFile", "key_file", e.KeyFile != ""},
		{"hsts", "hsts", e.HSTS != 0},
	} {
		if f.isSet {
			set = true
			b.ev("edge."+f.jsonKey, b.specEv("edge."+f.specKey, "spec [edge] "+f.specKey))
		}
	}
	for _, k := range []struct {
		key, mode string
		set       bool
	}{{"cert_file", "files", e.CertFile != ""}, {"key_file", "files", e.KeyFile != ""},
		{"acme_email", "acme", e.ACMEEmail != ""}, {"acme_directory", "acme", e.ACMEDirectory != ""},
		{"hsts", "", e.HSTS != 0}} {
		if applies := (k.mode != "" && k.mode == e.TLS) || (k.mode == "" && e.TLS != ""); !k.set || applies {
			continue
		}
		want := `"` + k.mode + `"`
		if k.mode == "" {
			want = `"acme" or "files"`
		}
		b.warnf("%s: [edge] %s has no effect unless tls = %s", location(b.specEv("edge."+k.key, "")), k.key, want)
	}
	if e.BasicAuth != "" && b.sp.Secrets.File == "" {
		b.warnf("%s: [edge] basic_auth names %s, but no [secrets] file is set: every deploy will fail until one holds it",
			location(b.specEv("edge.basic_auth", "")), e.BasicAuth)
	}
	if set {
		b.p.Edge = &e
	}
}

// kubeKey copies a value the spec sets (non-zero) and says whether it did.
func kubeKey[T comparable](dst *T, v T) bool {
	var zero T
	if v == zero {
		return false
	}
	*dst = v
	return true
}

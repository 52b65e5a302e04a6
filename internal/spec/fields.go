package spec

import (
	"strings"
	"time"
)

// kind is the type of a spec field as written in TOML.
type kind int

const (
	kindTable kind = iota
	kindString
	kindInt
	kindFloat
	kindBool
	kindDuration
	kindStrings
	kindInts
	// kindTables is an array of tables ([[deploy.canary.checks]]); its keys are the fields
	// whose parent it is, decoded by the decoder's own code (their ptr is nil).
	kindTables
)

// typeName is how the documentation and the errors call a kind.
func (k kind) typeName() string {
	return [...]string{
		kindTable:    "table",
		kindString:   "string",
		kindInt:      "integer",
		kindFloat:    "float",
		kindBool:     "boolean",
		kindDuration: `duration string (e.g. "30s")`,
		kindStrings:  "array of strings",
		kindInts:     "array of integers",
		kindTables:   "array of tables",
	}[k]
}

// field describes one key of the spec. The table of fields is the single source of truth for
// decoding, validation, the JSON Schema, the Markdown reference and Render.
type field struct {
	path string // dotted TOML path, e.g. "deploy.canary.steps"
	kind kind
	doc  string // one or two sentences
	// def is the default as documented ("" for none); the planner applies it.
	def     string
	example string // a TOML value, e.g. `8000` or `"30s"`

	enum []string
	// Numeric bounds (for arrays of integers: of each element).
	min, max       float64
	hasMin, hasMax bool
	maxDur         time.Duration // durations must be > 0 and, when set, at most maxDur
	open           bool          // min and max themselves are not allowed
	// pattern is a regular expression a string (or each string of an array) must match, for
	// the JSON Schema; check does the same and more in Go.
	pattern string
	// allowed says in words what values are allowed when enum/min/max do not say it all.
	allowed string
	// check validates one string value (or one element of an array of strings), returning
	// what is wrong ("" when fine) and an optional hint.
	check func(string) (msg, hint string)

	// notInOverlay is set for keys that an [env.NAME] overlay cannot change.
	notInOverlay bool
	// ptr points at the Spec field the key decodes into.
	ptr func(*Spec) any
}

func (f *field) name() string { return f.path[strings.LastIndexByte(f.path, '.')+1:] }

// parent is the dotted path of the table holding the field, "" at the top level.
func (f *field) parent() string {
	if i := strings.LastIndexByte(f.path, '.'); i >= 0 {
		return f.path[:i]
	}
	return ""
}

func between(lo, hi float64) func(*field) {
	return func(f *field) { f.min, f.max, f.hasMin, f.hasMax = lo, hi, true, true }
}

// strictlyBetween allows the numbers between lo and hi, both excluded.
func strictlyBetween(lo, hi float64) func(*field) {
	return func(f *field) { f.min, f.max, f.hasMin, f.hasMax, f.open = lo, hi, true, true, true }
}

func atLeast(lo float64) func(*field) {
	return func(f *field) { f.min, f.hasMin = lo, true }
}

const (
	labelPattern     = `^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`
	varPattern       = `^[A-Za-z_][A-Za-z0-9_]*$`
	pythonPattern    = `^3\.[0-9]+(\.[0-9]+)?$`
	durationRegexp   = `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	hostPattern      = `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	gatewayPattern   = `^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`
	sloWindowPattern = `^([0-9]+(m|h|d|w))+$`
	quantityPattern  = `^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$`
)

// fields returns the field table, tables first in document order, each followed by its keys.
// It is built on each call so that nothing global can be changed by accident.
func fields() []*field {
	with := func(f *field, opts ...func(*field)) *field {
		for _, o := range opts {
			o(f)
		}
		return f
	}
	return []*field{
		{path: "name", kind: kindString, notInOverlay: true,
			doc:     "Name of the app, used for the image, the service and its resources. It cannot change per environment.",
			def:     "inferred from the project",
			example: `"shop-api"`, pattern: labelPattern, check: checkLabel,
			allowed: "a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters",
			ptr:     func(s *Spec) any { return &s.Name }},
		{path: "version", kind: kindString, check: notEmpty,
			doc:     "Version of the app, used to tag images.",
			def:     "inferred from the project",
			example: `"1.4.2"`, ptr: func(s *Spec) any { return &s.Version }},

		{path: "build", kind: kindTable, doc: "How the image is built."},
		{path: "build.python", kind: kindString, pattern: pythonPattern, check: checkPython,
			doc:     "Python version the app runs on.",
			def:     `inferred from the project, else "3.11"`,
			allowed: `"3.MINOR" or "3.MINOR.PATCH", e.g. "3.12" or "3.12.4"`,
			example: `"3.12"`, ptr: func(s *Spec) any { return &s.Build.Python }},
		{path: "build.base", kind: kindString, check: notEmpty,
			doc:     `Base image: a registry reference, "oci-layout:DIR[:ref]" or the path of an image tarball.`,
			def:     `"python:<python>-slim"`,
			example: `"python:3.12-slim"`, ptr: func(s *Spec) any { return &s.Build.Base }},
		{path: "build.registry", kind: kindString, check: checkRegistry,
			doc:     "Registry (and namespace) that built images are pushed to, without a scheme.",
			def:     "none: images stay local",
			example: `"ghcr.io/acme"`, ptr: func(s *Spec) any { return &s.Build.Registry }},
		{path: "build.exclude", kind: kindStrings, check: notEmpty,
			doc:     "Extra gitignore-style patterns left out of the app layer (.gitignore and .dockerignore are honoured too).",
			def:     "none",
			example: `["tests/", "*.md"]`, ptr: func(s *Spec) any { return &s.Build.Exclude }},

		{path: "run", kind: kindTable, doc: "How the app is started."},
		{path: "run.command", kind: kindString, check: notEmpty,
			doc:     "Start command, as one shell-like line.",
			def:     "inferred from the project (Procfile, framework, server)",
			example: `"gunicorn app:app"`, ptr: func(s *Spec) any { return &s.Run.Command }},
		{path: "run.kind", kind: kindString, enum: []string{"web", "worker"},
			doc:     `"web" serves HTTP on the port; "worker" has no port and is checked by its process.`,
			def:     "inferred from the start command",
			example: `"web"`, ptr: func(s *Spec) any { return &s.Run.Kind }},
		with(&field{path: "run.port", kind: kindInt,
			doc:     "Port the app listens on; the app also gets it in $PORT.",
			def:     "8000",
			example: `8000`, ptr: func(s *Spec) any { return &s.Run.Port }}, between(1, 65535)),
		with(&field{path: "run.workers", kind: kindInt,
			doc:     "Number of server worker processes.",
			def:     "2",
			example: `4`, ptr: func(s *Spec) any { return &s.Run.Workers }}, between(1, 512)),

		{path: "health", kind: kindTable, doc: "How pyship decides that an instance is ready and alive."},
		{path: "health.type", kind: kindString, enum: []string{"http", "tcp", "process"},
			doc:     `"http" polls path, "tcp" connects to the port, "process" only checks that the process runs.`,
			def:     "inferred: http for web apps, process for workers",
			example: `"http"`, ptr: func(s *Spec) any { return &s.Health.Type }},
		{path: "health.path", kind: kindString, pattern: "^/", check: checkURLPath,
			doc:     "HTTP path polled for readiness (type http).",
			def:     `inferred from the app's routes, else "/"`,
			allowed: `a path starting with "/"`,
			example: `"/healthz"`, ptr: func(s *Spec) any { return &s.Health.Path }},
		{path: "health.interval", kind: kindDuration, maxDur: 10 * time.Minute,
			doc: "Time between two checks.", def: `"5s"`,
			example: `"5s"`, ptr: func(s *Spec) any { return &s.Health.Interval }},
		{path: "health.timeout", kind: kindDuration, maxDur: 5 * time.Minute,
			doc: "How long one check may take; at most the interval.", def: `"2s"`,
			example: `"2s"`, ptr: func(s *Spec) any { return &s.Health.Timeout }},
		{path: "health.startup_timeout", kind: kindDuration, maxDur: time.Hour,
			doc: "How long a new instance may take to become ready before the deploy fails.", def: `"60s"`,
			example: `"90s"`, ptr: func(s *Spec) any { return &s.Health.StartupTimeout }},

		{path: "deploy", kind: kindTable, doc: "Where and how the app is rolled out."},
		{path: "deploy.target", kind: kindString, enum: []string{"local", "kubernetes"},
			doc: "Where the app runs.", def: `"local"`,
			example: `"kubernetes"`, ptr: func(s *Spec) any { return &s.Deploy.Target }},
		{path: "deploy.strategy", kind: kindString, enum: []string{"rolling", "blue-green", "canary", "recreate"},
			doc: "How a new release replaces the old one. recreate stops every replica of the old release (drained) and waits until they are gone before starting the new one: never two releases at once (a ReadWriteOnce volume, a single-writer database file), with downtime during each deploy and each rollback.", def: `"rolling"`,
			example: `"canary"`, ptr: func(s *Spec) any { return &s.Deploy.Strategy }},
		with(&field{path: "deploy.replicas", kind: kindInt,
			doc: "Number of app instances.", def: "1",
			example: `3`, ptr: func(s *Spec) any { return &s.Deploy.Replicas }}, between(1, 1000)),
		{path: "deploy.drain_timeout", kind: kindDuration, maxDur: time.Hour,
			doc: "How long in-flight requests may take when an instance is retired.", def: `"30s"`,
			example: `"30s"`, ptr: func(s *Spec) any { return &s.Deploy.DrainTimeout }},
		{path: "deploy.rollback_window", kind: kindDuration, maxDur: 7 * 24 * time.Hour,
			doc: "How long the previous release stays warm after a switch, for an instant rollback.", def: `"10m"`,
			example: `"10m"`, ptr: func(s *Spec) any { return &s.Deploy.RollbackWindow }},
		{path: "deploy.backup_before", kind: kindBool,
			doc: "On the local target, back up the stable release's data ([backup] sources) before each deploy, tagged with that release for `pyship rollback --with-data`; a failed backup fails the deploy before anything changes. Needs [backup] destination and recipients.", def: "false",
			example: `true`, ptr: func(s *Spec) any { return &s.Deploy.BackupBefore }},
		{path: "deploy.request_timeout", kind: kindDuration, maxDur: time.Hour,
			doc: "How long the proxy waits for an instance's response headers before answering 504.", def: `"60s"`,
			example: `"120s"`, ptr: func(s *Spec) any { return &s.Deploy.RequestTimeout }},
		{path: "deploy.sticky", kind: kindBool,
			doc: "Pin each client to the release it first reached (cookie pyship_release), so it does not flip between releases during a canary.", def: "false",
			example: `true`, ptr: func(s *Spec) any { return &s.Deploy.Sticky }},
		with(&field{path: "deploy.keep_releases", kind: kindInt,
			doc: "How many successfully deployed releases the local target keeps for `pyship rollback` (failed ones do not count).", def: "5",
			example: `10`, ptr: func(s *Spec) any { return &s.Deploy.KeepReleases }}, between(1, 100)),

		{path: "deploy.canary", kind: kindTable, doc: "Canary steps and analysis thresholds (strategy canary)."},
		with(&field{path: "deploy.canary.steps", kind: kindInts,
			doc:     "Traffic percentages sent to the canary, one step after the other.",
			def:     "[10, 50, 100]",
			allowed: "at least one integer from 1 to 100, strictly ascending",
			example: `[10, 50, 100]`, ptr: func(s *Spec) any { return &s.Deploy.Canary.Steps }}, between(1, 100)),
		{path: "deploy.canary.pause", kind: kindDuration, maxDur: 24 * time.Hour,
			doc: "How long each step is held and analysed before the next.", def: `"30s"`,
			example: `"1m"`, ptr: func(s *Spec) any { return &s.Deploy.Canary.Pause }},
		with(&field{path: "deploy.canary.min_requests", kind: kindInt,
			doc: "Minimum number of canary requests for an analysis to count.", def: "50",
			example: `100`, ptr: func(s *Spec) any { return &s.Deploy.Canary.MinRequests }}, atLeast(0)),
		with(&field{path: "deploy.canary.max_error_rate", kind: kindFloat,
			doc: "Highest acceptable ratio of canary 5xx responses.", def: "0.01",
			example: `0.02`, ptr: func(s *Spec) any { return &s.Deploy.Canary.MaxErrorRate }}, between(0, 1)),
		with(&field{path: "deploy.canary.max_latency_ratio", kind: kindFloat,
			doc: "Highest acceptable canary p95 latency divided by the stable p95 latency.", def: "1.5",
			example: `2.0`, ptr: func(s *Spec) any { return &s.Deploy.Canary.MaxLatencyRatio }}, atLeast(1)),
		{path: "deploy.canary.no_traffic", kind: kindString, enum: []string{"hold", "promote", "abort"},
			doc: "What a canary step that has not had min_requests requests within no_traffic_after comes to: hold it until traffic comes or `pyship promote`/`pyship abort` (the deploy command then returns, saying so), promote it on its replicas' health, or abort the deploy. A worker has no traffic: its canary steps are always judged on health and pause.",
			def: `"hold"`, example: `"promote"`, ptr: func(s *Spec) any { return &s.Deploy.Canary.NoTraffic }},
		{path: "deploy.canary.no_traffic_after", kind: kindDuration, maxDur: 24 * time.Hour,
			doc: "How long a canary step may go without enough traffic before no_traffic decides.", def: `twice pause, at least "2m"`,
			example: `"10m"`, ptr: func(s *Spec) any { return &s.Deploy.Canary.NoTrafficAfter }},
		{path: "deploy.canary.prometheus_url", kind: kindString, pattern: "^https?://", check: checkWebhook,
			doc:     "Prometheus the canary analysis asks: on Kubernetes for the canary's and the stable release's 5xx rate and p95 latency (pyship's proxy sidecar series, through the ServiceMonitor), and on either target for [[deploy.canary.checks]] and max_burn_rate.",
			def:     "none: on Kubernetes pods' readiness and restarts only; on the local target the Prometheus `pyship monitor up` runs, when it runs",
			allowed: "an http or https URL",
			example: `"http://prometheus.monitoring:9090"`, ptr: func(s *Spec) any { return &s.Deploy.Canary.PrometheusURL }},
		with(&field{path: "deploy.canary.max_burn_rate", kind: kindFloat,
			doc: "Hold a canary step while the app's SLO burn rate over the last 5 minutes (its 5xx share of requests divided by the error budget, 1 - availability) is above this, e.g. 14.4 (the SRE workbook's fast-burn page). Needs [monitor] availability and a Prometheus.", def: "none: no hold",
			example: `14.4`, ptr: func(s *Spec) any { return &s.Deploy.Canary.MaxBurnRate }}, atLeast(0)),
		{path: "deploy.canary.checks", kind: kindTables, notInOverlay: true,
			doc: "PromQL checks judged with every canary step, as Argo Rollouts' AnalysisTemplates: each query must give one number (a scalar, or one series) within its max and/or min. No answer from Prometheus keeps the step and rolls it back after no_traffic_after; no data keeps the step like no traffic. Queries are parsed with Prometheus' parser when the spec is read (`pyship check`)."},
		{path: "deploy.canary.checks.name", kind: kindString, pattern: labelPattern, check: checkLabel,
			doc: "Name of the check, shown in status and errors; unique.", allowed: "a DNS-1123 label",
			example: `"error-rate"`},
		{path: "deploy.canary.checks.query", kind: kindString, check: notEmpty,
			doc:     "PromQL instant query giving one number. Placeholders: {{app}}, {{release}} (the canary), {{stable}}, {{namespace}} (\"\" on the local target). pyship's series carry app and release labels: pyship_requests_total{code}, pyship_proxy_errors_total{code}, pyship_request_duration_seconds_bucket{le}.",
			example: `'sum(rate(pyship_requests_total{app="{{app}}",release="{{release}}",code=~"5.."}[1m])) / sum(rate(pyship_requests_total{app="{{app}}",release="{{release}}"}[1m]))'`},
		{path: "deploy.canary.checks.max", kind: kindFloat, doc: "Highest value that passes.", def: "none (set max, min or both)", example: `0.01`},
		{path: "deploy.canary.checks.min", kind: kindFloat, doc: "Lowest value that passes.", def: "none (set max, min or both)", example: `1`},

		{path: "kubernetes", kind: kindTable, doc: `Where and how the app runs with [deploy] target = "kubernetes". Command-line flags of the same name override these keys.`},
		{path: "kubernetes.namespace", kind: kindString, pattern: labelPattern, check: checkLabel,
			doc: "Namespace the app's objects go to.", def: "the kubeconfig context's namespace, else \"default\"",
			allowed: "a DNS-1123 label",
			example: `"shop"`, ptr: func(s *Spec) any { return &s.Kubernetes.Namespace }},
		{path: "kubernetes.context", kind: kindString, check: notEmpty,
			doc: "kubeconfig context of the cluster.", def: "the kubeconfig's current context",
			example: `"prod-eu"`, ptr: func(s *Spec) any { return &s.Kubernetes.Context }},
		{path: "kubernetes.host", kind: kindString, pattern: hostPattern, check: checkHost,
			doc: "Host name the app is exposed on, through an Ingress (or an HTTPRoute when gateway is set).", def: "none: the app is reachable inside the cluster only",
			allowed: "a DNS host name (lowercase), e.g. shop.example.com",
			example: `"shop.example.com"`, ptr: func(s *Spec) any { return &s.Kubernetes.Host }},
		{path: "kubernetes.tls_secret", kind: kindString, pattern: hostPattern, check: checkHost,
			doc: "Secret holding the host's TLS certificate.", def: `"<name>-tls" when cluster_issuer is set, else none`,
			allowed: "a Kubernetes object name (DNS-1123 subdomain)",
			example: `"shop-tls"`, ptr: func(s *Spec) any { return &s.Kubernetes.TLSSecret }},
		{path: "kubernetes.cluster_issuer", kind: kindString, check: notEmpty,
			doc: "cert-manager ClusterIssuer asked for the host's certificate.", def: "none",
			example: `"letsencrypt"`, ptr: func(s *Spec) any { return &s.Kubernetes.ClusterIssuer }},
		{path: "kubernetes.ingress_class", kind: kindString, check: notEmpty,
			doc: "Ingress class of the host's Ingress.", def: "the cluster's default class",
			example: `"nginx"`, ptr: func(s *Spec) any { return &s.Kubernetes.IngressClass }},
		{path: "kubernetes.gateway", kind: kindString, pattern: gatewayPattern, check: checkGateway,
			doc: "Gateway API Gateway the host's HTTPRoute attaches to, NAME or NAMESPACE/NAME; setting it renders an HTTPRoute instead of an Ingress (and lets a canary split traffic by weight).", def: "none: an Ingress",
			allowed: "NAME or NAMESPACE/NAME, each a DNS-1123 label",
			example: `"infra/public"`, ptr: func(s *Spec) any { return &s.Kubernetes.Gateway }},
		{path: "kubernetes.cpu", kind: kindString, pattern: quantityPattern, check: checkQuantity,
			doc: "CPU request per replica.", def: `"250m"`, allowed: "a Kubernetes quantity, e.g. \"500m\" or \"1\"",
			example: `"500m"`, ptr: func(s *Spec) any { return &s.Kubernetes.CPU }},
		{path: "kubernetes.memory", kind: kindString, pattern: quantityPattern, check: checkQuantity,
			doc: "Memory request per replica.", def: `"256Mi"`, allowed: "a Kubernetes quantity, e.g. \"256Mi\" or \"1Gi\"",
			example: `"512Mi"`, ptr: func(s *Spec) any { return &s.Kubernetes.Memory }},
		{path: "kubernetes.cpu_limit", kind: kindString, pattern: quantityPattern, check: checkQuantity,
			doc: "CPU limit per replica; it also sets the server's worker count.", def: `"1"`, allowed: "a Kubernetes quantity",
			example: `"2"`, ptr: func(s *Spec) any { return &s.Kubernetes.CPULimit }},
		{path: "kubernetes.memory_limit", kind: kindString, pattern: quantityPattern, check: checkQuantity,
			doc: "Memory limit per replica.", def: `"512Mi"`, allowed: "a Kubernetes quantity",
			example: `"1Gi"`, ptr: func(s *Spec) any { return &s.Kubernetes.MemoryLimit }},
		with(&field{path: "kubernetes.max_replicas", kind: kindInt,
			doc: "Adds a HorizontalPodAutoscaler scaling the app from [deploy] replicas up to this many on CPU.", def: "none: a fixed number of replicas",
			example: `10`, ptr: func(s *Spec) any { return &s.Kubernetes.MaxReplicas }}, between(1, 1000)),
		with(&field{path: "kubernetes.target_cpu", kind: kindInt,
			doc: "Average CPU use, in percent of the request, the autoscaler aims at.", def: "70",
			example: `60`, ptr: func(s *Spec) any { return &s.Kubernetes.TargetCPU }}, between(1, 100)),
		{path: "kubernetes.storage_class", kind: kindString, check: notEmpty,
			doc: "StorageClass of the persistent data folders' volumes.", def: "the cluster's default class",
			example: `"fast-ssd"`, ptr: func(s *Spec) any { return &s.Kubernetes.StorageClass }},
		{path: "kubernetes.access_mode", kind: kindString, enum: []string{"ReadWriteOnce", "ReadWriteMany"},
			doc: "Access mode of the persistent data folders' volumes. A ReadWriteOnce volume attaches to one node, so with more than one pod at a time (replicas, rolling, blue-green, canary, an autoscaler) the pods on other nodes cannot start; ReadWriteMany needs a storage_class that offers it (NFS, CephFS, EFS, Azure Files...), or use replicas = 1 with [deploy] strategy = \"recreate\".",
			def: `"ReadWriteOnce"`, example: `"ReadWriteMany"`, ptr: func(s *Spec) any { return &s.Kubernetes.AccessMode }},
		{path: "kubernetes.storage_size", kind: kindString, pattern: quantityPattern, check: checkQuantity,
			doc: "Size of each persistent data folder's volume.", def: `"1Gi"`, allowed: "a Kubernetes quantity",
			example: `"10Gi"`, ptr: func(s *Spec) any { return &s.Kubernetes.StorageSize }},
		{path: "kubernetes.monitoring", kind: kindBool,
			doc: "Adds a ServiceMonitor and a PrometheusRule (applied only when the cluster has their CRDs), and a ConfigMap holding the app's Grafana dashboard, labelled `grafana_dashboard: \"1\"` for Grafana's dashboard sidecar; a [monitor] table adds them too, its SLO rules and alerts in the PrometheusRule.", def: "false",
			example: `true`, ptr: func(s *Spec) any { return &s.Kubernetes.Monitoring }},
		{path: "kubernetes.agent_base", kind: kindString,
			doc:     "Image the backup agent image is built on, for the tools backups run inside the cluster: pg_dump and pg_restore for `[backup] postgres` (e.g. an image with Debian's postgresql-client). Without it the agent image is pyship's binary alone.",
			allowed: "an image reference, oci-layout:DIR[:REF] or a tarball", example: `"ghcr.io/acme/pg-tools:15"`,
			ptr: func(s *Spec) any { return &s.Kubernetes.AgentBase }},
		{path: "kubernetes.proxy_sidecar", kind: kindBool,
			doc: "Runs pyship's proxy (`pyship agent sidecar`, from pyship's agent image) as a native sidecar in front of the app in each pod, so every release exports the pyship_* request series (requests, 5xx, latency) with no code in the app, for the ServiceMonitor and the canary analysis. Needs Kubernetes 1.29 or later. The app keeps its port; the Service reaches the sidecar (docs/monitoring.md).",
			def: "true when [kubernetes] monitoring is true or a canary has [deploy.canary] prometheus_url, else false", example: `false`,
			ptr: func(s *Spec) any { return &s.Kubernetes.ProxySidecar }},

		{path: "config", kind: kindTable, doc: "Configuration files shipped with the app."},
		{path: "config.dir", kind: kindString, check: checkRelDir,
			doc:     "Config folder, relative to the project.",
			def:     `"config" when that folder exists`,
			allowed: "a relative path inside the project (no leading '/', no '..')",
			example: `"config"`, ptr: func(s *Spec) any { return &s.Config.Dir }},

		{path: "data", kind: kindTable, doc: "Data folders of the app."},
		{path: "data.persistent", kind: kindStrings, check: checkRelDir,
			doc:     "Folders that survive deploys and rollbacks (volumes) and are backed up.",
			def:     `["data"] when that folder exists or the root .gitignore ignores it (/data/)`,
			allowed: "relative paths inside the project (no leading '/', no '..'), each listed once and not also in static",
			example: `["data", "uploads"]`, ptr: func(s *Spec) any { return &s.Data.Persistent }},
		{path: "data.static", kind: kindStrings, check: checkRelDir,
			doc:     "Folders shipped with the app and not persisted.",
			def:     "none",
			allowed: "relative paths inside the project (no leading '/', no '..'), each listed once and not also in persistent",
			example: `["static"]`, ptr: func(s *Spec) any { return &s.Data.Static }},

		{path: "secrets", kind: kindTable, doc: "Secret environment variables, kept out of the image and the repository."},
		{path: "secrets.file", kind: kindString, check: notEmpty,
			doc:     "Dotenv file (KEY=value lines) outside the repository, read at deploy time.",
			def:     "none",
			example: `"~/.config/shop-api/secrets.env"`, ptr: func(s *Spec) any { return &s.Secrets.File }},

		{path: "edge", kind: kindTable, doc: "Who may reach the app through pyship's proxy (local target). Refused requests are answered by the proxy and counted apart from the app's responses, never as the release's errors."},
		{path: "edge.hosts", kind: kindStrings, pattern: hostPattern, check: checkHost,
			doc:     "Host names the app answers to; a request for any other Host gets 404 from pyship.",
			def:     "any host",
			example: `["shop.example.com", "www.shop.example.com"]`, ptr: func(s *Spec) any { return &s.Edge.Hosts }},
		{path: "edge.allow", kind: kindStrings, check: checkNetwork,
			doc:     "Client networks let in; any other client gets 403.",
			def:     "every client",
			allowed: "CIDRs or addresses, IPv4 or IPv6",
			example: `["10.0.0.0/8", "192.0.2.7"]`, ptr: func(s *Spec) any { return &s.Edge.Allow }},
		{path: "edge.basic_auth", kind: kindString, pattern: varPattern, check: checkSecretName,
			doc:     "Name of the secrets-file variable ([secrets] file) holding the users of HTTP basic auth as bcrypt htpasswd entries (`htpasswd -nbB USER PASSWORD`), separated by commas or spaces; a request without valid credentials gets 401. The hashes are never logged.",
			def:     "no authentication",
			example: `"BASIC_AUTH_USERS"`, ptr: func(s *Spec) any { return &s.Edge.BasicAuth }},
		with(&field{path: "edge.rate_limit", kind: kindInt,
			doc:     "Requests per second each client (by IP address) may make, with bursts of as many; beyond it the proxy answers 429.",
			def:     "no limit",
			example: `20`, ptr: func(s *Spec) any { return &s.Edge.RateLimit }}, between(1, 1_000_000)),
		{path: "edge.tls", kind: kindString, enum: []string{"acme", "files", "off"},
			doc:     "HTTPS for the app's hosts on the shared port 443: certificates by ACME (Let's Encrypt by default, HTTP-01 or TLS-ALPN-01, renewed before expiry without a restart) or from files (reloaded when they change). HTTP is then redirected to HTTPS (308), and HTTP/2 is offered.",
			def:     `"off"`,
			example: `"acme"`, ptr: func(s *Spec) any { return &s.Edge.TLS }},
		{path: "edge.acme_email", kind: kindString, pattern: "^[^@ ]+@[^@ ]+$", check: checkEmail,
			doc:     "Contact address of the ACME account (expiry warnings from the CA).",
			def:     "none",
			example: `"ops@example.com"`, ptr: func(s *Spec) any { return &s.Edge.ACMEEmail }},
		{path: "edge.acme_directory", kind: kindString, pattern: "^https://", check: checkHTTPSURL,
			doc:     "Directory URL of the ACME server.",
			def:     "Let's Encrypt's production directory",
			allowed: "an https URL",
			example: `"https://acme-staging-v02.api.letsencrypt.org/directory"`, ptr: func(s *Spec) any { return &s.Edge.ACMEDirectory }},
		{path: "edge.cert_file", kind: kindString, pattern: "^(/|~/)", check: checkMachinePath,
			doc:     "PEM certificate chain of tls = \"files\", on the machine the agent runs on.",
			def:     "none",
			allowed: "an absolute path (or ~/...)",
			example: `"/etc/ssl/shop/fullchain.pem"`, ptr: func(s *Spec) any { return &s.Edge.CertFile }},
		{path: "edge.key_file", kind: kindString, pattern: "^(/|~/)", check: checkMachinePath,
			doc:     "PEM private key of tls = \"files\".",
			def:     "none",
			allowed: "an absolute path (or ~/...)",
			example: `"/etc/ssl/shop/privkey.pem"`, ptr: func(s *Spec) any { return &s.Edge.KeyFile }},
		with(&field{path: "edge.hsts", kind: kindInt,
			doc:     "max-age in seconds of the Strict-Transport-Security header sent over HTTPS (browsers then refuse plain HTTP for that long: opt in once HTTPS works).",
			def:     "not sent",
			example: `31536000`, ptr: func(s *Spec) any { return &s.Edge.HSTS }}, between(1, 63_072_000)),

		{path: "monitor", kind: kindTable, doc: "Service level objectives. pyship generates Prometheus recording rules and multi-window, multi-burn-rate alerts for them, and an Alertmanager route to [notify] webhook (`pyship monitor render`; the PrometheusRule on Kubernetes). See docs/monitoring.md."},
		{path: "monitor.window", kind: kindString, pattern: sloWindowPattern, check: checkSLOWindow,
			doc:     "Window the objectives are measured over: the error budget is what the objective allows in it.",
			def:     `"28d"`,
			allowed: "a Prometheus duration (units m, h, d, w) from 7d to 90d, e.g. \"28d\" or \"4w\"",
			example: `"28d"`, ptr: func(s *Spec) any { return &s.Monitor.Window }},
		with(&field{path: "monitor.availability", kind: kindFloat,
			doc:     "Percent of requests that must not fail with a 5xx (the app's or the proxy's 502/503/504) over the window; 99.9 leaves an error budget of 0.1 %.",
			def:     "no availability objective",
			example: `99.9`, ptr: func(s *Spec) any { return &s.Monitor.Availability }}, strictlyBetween(0, 100)),
		{path: "monitor.latency", kind: kindDuration, maxDur: 30 * time.Second,
			doc:     "Latency threshold of the latency objective: latency_percentile percent of requests must complete within it. It must be a bucket bound of pyship's latency histogram, so that it is counted exactly.",
			def:     "no latency objective",
			allowed: "one of " + latencyBoundsText(),
			example: `"300ms"`, ptr: func(s *Spec) any { return &s.Monitor.Latency }},
		with(&field{path: "monitor.latency_percentile", kind: kindFloat,
			doc:     "Percent of requests that must complete within latency over the window.",
			def:     "95",
			example: `95`, ptr: func(s *Spec) any { return &s.Monitor.LatencyPercentile }}, strictlyBetween(0, 100)),
		{path: "monitor.local", kind: kindBool,
			doc:     "On the local target, a deploy starts the agent's Prometheus and Alertmanager when they are not running, as `pyship monitor up` does with its default addresses, from the binaries on the agent's PATH; when they are missing the deploy succeeds with a warning saying how to install them.",
			def:     "false: only `pyship monitor up` starts them",
			example: `true`, ptr: func(s *Spec) any { return &s.Monitor.Local }},

		{path: "notify", kind: kindTable, doc: "Notifications."},
		{path: "notify.webhook", kind: kindString, pattern: "^https?://", check: checkWebhook,
			doc:     "URL that receives Slack-compatible JSON on deploy success, failure and rollback, and the alerts of [monitor] through Alertmanager's Slack notifier (`pyship monitor render`).",
			def:     "none",
			allowed: "an http or https URL",
			example: `"https://hooks.slack.com/services/T000/B000/XXXX"`, ptr: func(s *Spec) any { return &s.Notify.Webhook }},

		{path: "backup", kind: kindTable, doc: "Scheduled, encrypted backups to S3-compatible storage (`pyship backup`). Only age public keys are written here: the identity (private key) that restores stays on your machine (--identity-file). S3 credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment or the app's secrets file, or the AWS credentials file."},
		{path: "backup.schedule", kind: kindString, check: checkCron,
			doc: "When the local agent takes a backup, then prunes with the retention: a 5-field cron expression (minute hour day-of-month month day-of-week, local time) or @hourly, @daily, @weekly, @monthly.", def: "none: backups are taken by `pyship backup now` and backup_before only",
			allowed: "a cron expression, e.g. \"0 3 * * *\" or \"@daily\"",
			example: `"0 3 * * *"`, ptr: func(s *Spec) any { return &s.Backup.Schedule }},
		{path: "backup.destination", kind: kindString, pattern: "^s3://[^/]+", check: checkS3URL,
			doc: "Bucket and prefix backups are written under.", def: "none ($PYSHIP_BACKUP_DEST or --dest)",
			allowed: "s3://BUCKET or s3://BUCKET/PREFIX",
			example: `"s3://acme-backups/shop-api"`, ptr: func(s *Spec) any { return &s.Backup.Destination }},
		{path: "backup.endpoint", kind: kindString, pattern: "^https?://", check: checkWebhook,
			doc: "S3 endpoint URL, for S3-compatible services (MinIO, R2, ...).", def: "$AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, endpoint_url of the AWS config file's profile, else https://s3.amazonaws.com",
			allowed: "an http or https URL",
			example: `"https://s3.eu-central-1.amazonaws.com"`, ptr: func(s *Spec) any { return &s.Backup.Endpoint }},
		{path: "backup.region", kind: kindString, check: notEmpty,
			doc: "Region of the bucket.", def: `$AWS_REGION, $AWS_DEFAULT_REGION, region of the AWS config file's profile, else "us-east-1"`,
			example: `"eu-central-1"`, ptr: func(s *Spec) any { return &s.Backup.Region }},
		{path: "backup.recipients", kind: kindStrings, pattern: "^age1", check: checkAgeRecipient,
			doc: "age public keys backups are encrypted to (make a key pair with `pyship backup keygen`); any one of their identities restores.", def: "none ($PYSHIP_BACKUP_RECIPIENTS or --recipient)",
			allowed: "age X25519 public keys (age1...)",
			example: `["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"]`, ptr: func(s *Spec) any { return &s.Backup.Recipients }},
		{path: "backup.signing_public_keys", kind: kindStrings, pattern: "^pyship-sign-ed25519:", check: checkSigningPublicKey,
			doc: "Public halves of the Ed25519 keys backups are signed with (`pyship backup keygen --signing-key-file FILE` makes a pair). A backup counts (listed, verified, restored, drilled, kept or deleted by prune, chosen by rollback --with-data) only when one of these keys signed its manifest; pin two while rotating. The private half is given to what takes backups ($PYSHIP_BACKUP_SIGNING_KEY in the app's secrets file or the environment, or --signing-key-file), never the spec or the bucket.", def: "none ($PYSHIP_BACKUP_SIGNING_PUBLIC_KEYS or --signing-public-key)",
			allowed: "pyship-sign-ed25519:... public keys",
			example: `["pyship-sign-ed25519:mXrQ3VhBq7d0H1eH2f8k0bQ6fR9lq1W0n1cY3m6KcJg"]`, ptr: func(s *Spec) any { return &s.Backup.SigningPublicKeys }},
		with(&field{path: "backup.keep_last", kind: kindInt,
			doc: "Prune keeps the newest N backups.", def: "7 when no keep_* key is set, else 0",
			example: `7`, ptr: func(s *Spec) any { return &s.Backup.KeepLast }}, between(0, 10000)),
		with(&field{path: "backup.keep_daily", kind: kindInt,
			doc: "Prune keeps the newest backup of each of the last N days that have one.", def: "7 when no keep_* key is set, else 0",
			example: `14`, ptr: func(s *Spec) any { return &s.Backup.KeepDaily }}, between(0, 10000)),
		with(&field{path: "backup.keep_weekly", kind: kindInt,
			doc: "Prune keeps the newest backup of each of the last N ISO weeks that have one.", def: "4 when no keep_* key is set, else 0",
			example: `8`, ptr: func(s *Spec) any { return &s.Backup.KeepWeekly }}, between(0, 10000)),
		{path: "backup.folders", kind: kindStrings, check: checkRelDir,
			doc: "Data folders backed up (as tar: owners, modes, symlinks, mtimes). On the local target the live folders under $PYSHIP_HOME/apps/APP/data are read. An empty list backs up no folder.", def: "every persistent data folder ([data] persistent)",
			allowed: "relative paths inside the project (no leading '/', no '..')",
			example: `["data", "uploads"]`, ptr: func(s *Spec) any { return &s.Backup.Folders }},
		{path: "backup.sqlite", kind: kindStrings, check: checkRelDir,
			doc: "SQLite database files, relative to the project (usually inside a persistent data folder), backed up consistently while the app writes (VACUUM INTO). A file inside a backed-up folder is in the folder's archive too, as a plain copy; it is restored after the folders, so the consistent copy wins.", def: "none",
			allowed: "relative paths inside the project (no leading '/', no '..')",
			example: `["data/app.db"]`, ptr: func(s *Spec) any { return &s.Backup.SQLite }},
		{path: "backup.postgres", kind: kindStrings, pattern: `^([A-Za-z0-9._-]+=)?[A-Za-z_][A-Za-z0-9_]*$`, check: checkPostgresSource,
			doc: "PostgreSQL databases backed up with pg_dump, each \"NAME=VAR\" or \"VAR\": the DSN is the value of variable VAR in the app's secrets file ([secrets] file), else the environment; it is never written in the spec. NAME (default: VAR in lowercase) names the source in the backup.", def: "none",
			allowed: "NAME=VAR or VAR, VAR an environment variable name",
			example: `["db=DATABASE_URL"]`, ptr: func(s *Spec) any { return &s.Backup.Postgres }},
	}
}

// fieldIndex maps each dotted path to its field.
func fieldIndex(fs []*field) map[string]*field {
	m := make(map[string]*field, len(fs))
	for _, f := range fs {
		m[f.path] = f
	}
	return m
}

// childNames lists the keys allowed directly under the table at parent ("" for the top level),
// env included at the top level (or in an overlay).
func childNames(fs []*field, parent string) []string {
	var names []string
	for _, f := range fs {
		if f.parent() == parent {
			names = append(names, f.name())
		}
	}
	if parent == "" {
		names = append(names, "env")
	}
	return names
}

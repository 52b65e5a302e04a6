package plan

import "github.com/pyship/pyship/internal/rollout"

// SchemaVersion is the version of the Plan JSON document. It changes only when a field is
// removed or changes meaning; new fields may be added within a version.
const SchemaVersion = 1

// Plan is the resolved app. Its JSON form (`pyship plan --output json`) is a stable interface,
// documented in docs/plan-json.md.
type Plan struct {
	SchemaVersion int `json:"schemaVersion"`
	// Dir is the absolute project folder.
	Dir string `json:"dir"`
	// SpecFile is the spec the plan was resolved from ("" when the project has none).
	SpecFile string `json:"specFile,omitempty"`
	// Environment is the overlay applied (--env), "" for none.
	Environment string `json:"environment,omitempty"`

	Name    string `json:"name"`
	Version string `json:"version"`

	Python        Python            `json:"python"`
	Dependencies  Dependencies      `json:"dependencies"`
	Run           Run               `json:"run"`
	Health        Health            `json:"health"`
	Config        *Folder           `json:"config,omitempty"`
	Data          []DataFolder      `json:"data"`
	Env           map[string]string `json:"env"`
	SecretsFile   string            `json:"secretsFile,omitempty"`
	Build         Build             `json:"build"`
	Deploy        Deploy            `json:"deploy"`
	NotifyWebhook string            `json:"notifyWebhook,omitempty"`
	// Kubernetes holds the spec's [kubernetes] keys; nil when it sets none. Added in schema 1.
	Kubernetes *Kubernetes `json:"kubernetes,omitempty"`
	// Backup is the spec's [backup] table with its defaults applied; nil when the spec has
	// none. Added in schema 1.
	Backup *Backup `json:"backup,omitempty"`
	// Edge is the spec's [edge] table; nil when it sets none. Added in schema 1.
	Edge *Edge `json:"edge,omitempty"`
	// Monitor is the spec's [monitor] table with its defaults applied; nil when the spec has
	// none. Added in schema 1.
	Monitor *Monitor `json:"monitor,omitempty"`

	// Evidence says where each value came from, keyed by the JSON path of the value
	// ("run.command", "python.version", "dependencies.source"...).
	Evidence map[string]Evidence `json:"evidence"`
	// Warnings are things the user should fix or know but that do not stop a build.
	Warnings []string `json:"warnings"`
}

// Evidence is why a plan value is what it is.
type Evidence struct {
	// File is relative to the project folder; Line is 1-based, 0 when the rule is not about a line.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Rule names the rule that decided, e.g. "Procfile web: process", "spec [run] port", "default".
	Rule string `json:"rule"`
	// Note adds detail to the rule, e.g. where the app reads $PORT. Added in schema 1.
	Note string `json:"note,omitempty"`
}

// Python is the interpreter the app runs on.
type Python struct {
	// Version is "3.12" or "3.12.4".
	Version string `json:"version"`
}

// Dependencies is what gets installed into the app's environment.
type Dependencies struct {
	// Source is the file that won (relative path), "" when the app has none.
	Source string `json:"source,omitempty"`
	// Kind is one of "requirements", "pep621", "poetry", "uv", "pipfile", "none".
	Kind string `json:"kind"`
	// Requirements are PEP 508 requirement strings, pinned when a lock file pins them,
	// in the order of the source, with hashes when the source has them.
	Requirements []Requirement `json:"requirements"`
	// Others lists the other dependency files found that did not win.
	Others []string `json:"others,omitempty"`
	// PipOptions are pip options the source gives (--index-url URL, --extra-index-url URL,
	// --find-links URL, --trusted-host HOST, --pre...), as argv for the install. Added in schema 1.
	PipOptions []string `json:"pipOptions,omitempty"`
	// Constraints are the requirements of -c files of requirements.txt (pip install -c). Added in schema 1.
	Constraints []Requirement `json:"constraints,omitempty"`
}

// Requirement is one resolved requirement.
type Requirement struct {
	// Name is the normalised project name (PEP 503: lowercase, runs of -_. become -).
	Name string `json:"name"`
	// Spec is the full PEP 508 line without hashes, e.g. `flask==2.2.2 ; python_version >= "3.8"`.
	Spec string `json:"spec"`
	// Version is the pinned version when the source pins one exactly.
	Version string `json:"version,omitempty"`
	// Hashes are "sha256:..." values from the source.
	Hashes []string `json:"hashes,omitempty"`
}

// Run is how the app is started.
type Run struct {
	// Command is the start command as argv; Shell is the same command as one line.
	Command []string `json:"command"`
	Shell   string   `json:"shell"`
	// Kind is "web" (serves HTTP on Port) or "worker" (no port; liveness by process).
	Kind string `json:"kind"`
	// Framework is "flask", "fastapi", "starlette", "django", "wsgi", "asgi" or "plain".
	Framework string `json:"framework"`
	// Server is "gunicorn", "uvicorn" or "" (the app serves itself, or is a worker).
	Server string `json:"server,omitempty"`
	// App is the application object as "module:attribute" when one was found, e.g. "app:app".
	App string `json:"app,omitempty"`
	// Port the app listens on; 0 for a worker. The app gets it in $PORT either way.
	Port    int `json:"port,omitempty"`
	Workers int `json:"workers"`
	// WorkersArg is the index in Command of the worker count, when pyship generated the
	// command (a gunicorn or uvicorn command for Server and App): targets may set it (the
	// Kubernetes target does, from the CPU limit). 0 when the command is the user's own.
	// Added in schema 1.
	WorkersArg int `json:"workersArg,omitempty"`
	// Entrypoint is the file the start command runs or imports, relative to Dir.
	Entrypoint string `json:"entrypoint,omitempty"`
	// PythonPath lists folders (relative to Dir) to put on PYTHONPATH, e.g. ["src"].
	PythonPath []string `json:"pythonPath,omitempty"`
	// PrometheusMultiproc says the app uses prometheus_client under gunicorn: the targets set
	// PROMETHEUS_MULTIPROC_DIR to a folder of each replica and run gunicorn with
	// GunicornMultiprocConfig. Added in schema 1.
	PrometheusMultiproc bool `json:"prometheusMultiproc,omitempty"`
}

// Health is how pyship decides an instance is ready and alive.
type Health struct {
	// Type is "http", "tcp" or "process".
	Type string `json:"type"`
	Path string `json:"path,omitempty"`
	// Durations in Go syntax ("2s").
	Interval       string `json:"interval"`
	Timeout        string `json:"timeout"`
	StartupTimeout string `json:"startupTimeout"`
}

// Folder is a folder of the project.
type Folder struct {
	Path string `json:"path"`
}

// DataFolder is a data folder of the project.
type DataFolder struct {
	Path       string `json:"path"`
	Persistent bool   `json:"persistent"`
}

// Build is how the image is built.
type Build struct {
	Base     string   `json:"base"`
	Registry string   `json:"registry,omitempty"`
	Exclude  []string `json:"exclude,omitempty"`
}

// Deploy is where and how the app is rolled out.
type Deploy struct {
	Target         string           `json:"target"`
	Strategy       rollout.Strategy `json:"strategy"`
	Replicas       int              `json:"replicas"`
	DrainTimeout   string           `json:"drainTimeout"`
	RollbackWindow string           `json:"rollbackWindow"`
	BackupBefore   bool             `json:"backupBefore"`
	RequestTimeout string           `json:"requestTimeout"`
	Sticky         bool             `json:"sticky"`
	// KeepReleases is how many successfully deployed releases the local target keeps for
	// rollback. Added in schema 1; 0 (older plans) means DefaultKeepReleases.
	KeepReleases int     `json:"keepReleases,omitempty"`
	Canary       *Canary `json:"canary,omitempty"`
}

// Edge is who may reach the app through the local target's proxy. It never holds a secret:
// BasicAuth names the secrets-file variable with the users.
type Edge struct {
	Hosts     []string `json:"hosts,omitempty"`
	Allow     []string `json:"allow,omitempty"`
	BasicAuth string   `json:"basicAuth,omitempty"`
	RateLimit int      `json:"rateLimit,omitempty"`
	// TLS is "acme", "files" or "" (HTTP only); the rest configure it.
	TLS           string `json:"tls,omitempty"`
	ACMEEmail     string `json:"acmeEmail,omitempty"`
	ACMEDirectory string `json:"acmeDirectory,omitempty"`
	CertFile      string `json:"certFile,omitempty"`
	KeyFile       string `json:"keyFile,omitempty"`
	HSTS          int    `json:"hsts,omitempty"`
}

// Monitor holds the app's service level objectives.
type Monitor struct {
	// Window is the SLO window as Prometheus writes durations, e.g. "28d".
	Window string `json:"window"`
	// Availability is the percent of requests that must not be 5xx; 0 for no such objective.
	Availability float64 `json:"availability,omitempty"`
	// Latency is the latency objective's threshold as a Go duration ("300ms"), "" for none;
	// LatencyPercentile the percent of requests that must complete within it.
	Latency           string  `json:"latency,omitempty"`
	LatencyPercentile float64 `json:"latencyPercentile,omitempty"`
	// Local has a local-target deploy start the agent's Prometheus and Alertmanager.
	Local bool `json:"local,omitempty"`
}

// DefaultSLOWindow and DefaultLatencyPercentile are the [monitor] defaults.
const (
	DefaultSLOWindow         = "28d"
	DefaultLatencyPercentile = 95.0
)

// Canary holds the canary steps and analysis thresholds.
type Canary struct {
	Steps           []int   `json:"steps"`
	Pause           string  `json:"pause"`
	MinRequests     int     `json:"minRequests"`
	MaxErrorRate    float64 `json:"maxErrorRate"`
	MaxLatencyRatio float64 `json:"maxLatencyRatio"`
	// PrometheusURL is the Prometheus the Kubernetes target queries for the canary analysis.
	// Added in schema 1.
	PrometheusURL string `json:"prometheusUrl,omitempty"`
	// NoTraffic and NoTrafficAfter ([deploy.canary] no_traffic, no_traffic_after; "" for
	// the defaults). Added in schema 1.
	NoTraffic      string `json:"noTraffic,omitempty"`
	NoTrafficAfter string `json:"noTrafficAfter,omitempty"`
	// Checks are the [[deploy.canary.checks]] PromQL checks; MaxBurnRate holds a step while the
	// availability burn rate against Availability (percent) is above it. Added in schema 1.
	Checks       []CanaryCheck `json:"checks,omitempty"`
	MaxBurnRate  float64       `json:"maxBurnRate,omitempty"`
	Availability float64       `json:"availability,omitempty"`
}

// CanaryCheck is one PromQL check with its placeholders unresolved, and its thresholds.
type CanaryCheck struct {
	Name  string   `json:"name"`
	Query string   `json:"query"`
	Max   *float64 `json:"max,omitempty"`
	Min   *float64 `json:"min,omitempty"`
}

// Kubernetes is where and how the app runs on a cluster, as the spec says; an empty field
// leaves the choice to the command line or the renderer's default.
type Kubernetes struct {
	Namespace     string `json:"namespace,omitempty"`
	Context       string `json:"context,omitempty"`
	Host          string `json:"host,omitempty"`
	TLSSecret     string `json:"tlsSecret,omitempty"`
	ClusterIssuer string `json:"clusterIssuer,omitempty"`
	IngressClass  string `json:"ingressClass,omitempty"`
	Gateway       string `json:"gateway,omitempty"`
	CPU           string `json:"cpu,omitempty"`
	Memory        string `json:"memory,omitempty"`
	CPULimit      string `json:"cpuLimit,omitempty"`
	MemoryLimit   string `json:"memoryLimit,omitempty"`
	MaxReplicas   int    `json:"maxReplicas,omitempty"`
	TargetCPU     int    `json:"targetCPU,omitempty"`
	StorageClass  string `json:"storageClass,omitempty"`
	StorageSize   string `json:"storageSize,omitempty"`
	AccessMode    string `json:"accessMode,omitempty"`
	Monitoring    bool   `json:"monitoring,omitempty"`
	AgentBase     string `json:"agentBase,omitempty"`
	// ProxySidecar is [kubernetes] proxy_sidecar when the spec sets it; nil lets the
	// renderer decide (on when monitoring or the canary analysis reads its series).
	ProxySidecar *bool `json:"proxySidecar,omitempty"`
}

// Backup is what is backed up, where to, when and for how long. Secrets are never in it:
// PostgreSQL DSNs are named by the variable that holds them.
type Backup struct {
	// Schedule is a cron expression the local agent runs backups on; "" for none.
	Schedule    string `json:"schedule,omitempty"`
	Destination string `json:"destination,omitempty"`
	Endpoint    string `json:"endpoint,omitempty"`
	Region      string `json:"region,omitempty"`
	// Recipients are age public keys.
	Recipients []string `json:"recipients"`
	// SigningPublicKeys are the pinned public halves of the keys backups are signed with.
	SigningPublicKeys []string  `json:"signingPublicKeys,omitempty"`
	Retention         Retention `json:"retention"`
	// Folders are data folders relative to Dir.
	Folders []string `json:"folders"`
	// SQLite are database files relative to Dir.
	SQLite   []string         `json:"sqlite,omitempty"`
	Postgres []PostgresSource `json:"postgres,omitempty"`
}

// Retention is how many backups prune keeps.
type Retention struct {
	KeepLast   int `json:"keepLast"`
	KeepDaily  int `json:"keepDaily"`
	KeepWeekly int `json:"keepWeekly"`
}

// PostgresSource is a database whose DSN is the value of the variable Secret, looked up in
// the app's secrets file, then the environment.
type PostgresSource struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

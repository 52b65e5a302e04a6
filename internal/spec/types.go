package spec

import "time"

// Spec is a decoded, validated app spec with any environment overlay already applied.
// A zero value in a field means "not set by the spec": the planner then infers it.
type Spec struct {
	// Name of the app: a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters).
	Name string
	// Version overrides the inferred app version.
	Version string
	Build   Build
	Run     Run
	Health  Health
	Deploy  Deploy
	// Env holds environment variables set for the app (the scalar keys of [env]), numbers and
	// booleans in their string form. Never nil after Load or Parse.
	Env map[string]string
	// Environments names the overlays declared as [env.NAME] tables (sorted).
	Environments []string
	// Environment is the overlay applied to this Spec, "" for the base spec.
	Environment string
	Config      Config
	Data        Data
	Secrets     Secrets
	Notify      Notify
	Kubernetes  Kubernetes
	Backup      Backup
	Edge        Edge
	Monitor     Monitor

	// File is the file the spec came from ("" when there is no spec), e.g. /app/pyship.toml.
	File string
	// Positions maps each dotted field path that the spec sets ("run.port", "env.DEBUG",
	// "deploy.canary.steps") to where its key was written. Overlay keys point into their
	// [env.NAME] table. Tables themselves have no entry. Never nil after Load or Parse.
	Positions map[string]Pos
}

// Pos is a place in a spec file. File is the path as Load built it (filepath.Join(dir, name)).
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col,omitempty"`
	// Env names the [env.NAME] overlay that set the key ("" for the base spec); only the
	// positions in Spec.Positions have it.
	Env string `json:"env,omitempty"`
}

// Build is the [build] table.
type Build struct {
	// Python is the Python version, "3.12" or "3.12.4".
	Python string
	// Base is the base image: a registry reference, "oci-layout:DIR[:ref]" or a tarball path.
	Base string
	// Registry is where built images are pushed, e.g. "ghcr.io/acme".
	Registry string
	// Exclude are extra gitignore-style patterns left out of the app layer.
	Exclude []string
}

// Run is the [run] table.
type Run struct {
	// Command is the start command as a shell-like string, e.g. "gunicorn app:app".
	Command string
	// Kind is "web" or "worker"; "" infers it.
	Kind string
	// Port the app listens on (1-65535); the app gets it in $PORT.
	Port int
	// Workers is the number of server worker processes (1-512).
	Workers int
}

// Health is the [health] table.
type Health struct {
	// Type is "http", "tcp" or "process"; "" infers it (http for web apps, process for workers).
	Type string
	// Path is the HTTP readiness path, e.g. "/healthz".
	Path           string
	Interval       time.Duration
	Timeout        time.Duration
	StartupTimeout time.Duration
}

// Deploy is the [deploy] table.
type Deploy struct {
	// Target is "local" or "kubernetes".
	Target string
	// Strategy is "rolling", "blue-green", "canary" or "recreate".
	Strategy string
	// Replicas is the number of app replicas (1-1000).
	Replicas int
	// DrainTimeout bounds how long in-flight requests may take when a replica is retired.
	DrainTimeout time.Duration
	// RollbackWindow is how long the previous release stays warm after a switch.
	RollbackWindow time.Duration
	// BackupBefore takes a backup before each deploy.
	BackupBefore bool
	// RequestTimeout bounds how long the proxy waits for a replica's response headers.
	RequestTimeout time.Duration
	// Sticky pins each client to the release it was first routed to (a cookie), so a user
	// does not flip between releases during a canary or a blue-green rollback window.
	Sticky bool
	// KeepReleases is how many successfully deployed releases the local target keeps for
	// rollback (1-100).
	KeepReleases int
	Canary       Canary
}

// Canary is the [deploy.canary] table.
type Canary struct {
	// Steps are traffic percentages for the canary, ascending, each 1-100, e.g. [10, 50, 100].
	Steps []int
	// Pause is how long each step is held and analysed before the next.
	Pause time.Duration
	// MinRequests is the minimum number of canary requests for an analysis to count.
	MinRequests int
	// MaxErrorRate is the highest acceptable canary 5xx ratio (0-1).
	MaxErrorRate float64
	// MaxLatencyRatio is the highest acceptable canary p95 / stable p95 (>= 1).
	MaxLatencyRatio float64
	// PrometheusURL is the Prometheus the Kubernetes target asks for the canary's metrics.
	PrometheusURL string
	// NoTraffic (hold, promote, abort) is what a step without enough traffic comes to once
	// NoTrafficAfter has passed.
	NoTraffic      string
	NoTrafficAfter time.Duration
	// MaxBurnRate holds a step while the app's availability burn rate, against the [monitor]
	// availability objective, is above it.
	MaxBurnRate float64
	// Checks are the [[deploy.canary.checks]] PromQL checks.
	Checks []CanaryCheck
}

// CanaryCheck is one [[deploy.canary.checks]] table.
type CanaryCheck struct {
	Name, Query string
	Max, Min    *float64
	// Pos is where its table starts.
	Pos Pos
}

// Config is the [config] table.
type Config struct {
	// Dir is the config folder, relative to the project ("config" by default when it exists).
	Dir string
}

// Data is the [data] table.
type Data struct {
	// Persistent folders survive deploys and rollbacks (volumes); relative to the project.
	Persistent []string
	// Static folders are shipped with the app and not persisted.
	Static []string
}

// Secrets is the [secrets] table.
type Secrets struct {
	// File is a dotenv file outside the repository holding secret variables.
	File string
}

// Edge is the [edge] table: who may reach the app through pyship's proxy on the local target.
type Edge struct {
	// Hosts are the host names the app answers to; other Host fields get 404 from pyship.
	Hosts []string
	// Allow are the client networks (CIDRs or addresses) let in; others get 403.
	Allow []string
	// BasicAuth names the [secrets] variable holding htpasswd bcrypt lines (user:$2y$...).
	BasicAuth string
	// RateLimit is each client's sustained requests per second (bursts as many); 429 beyond.
	RateLimit int
	// TLS is how the app's hosts get certificates: "acme", "files" or "off" ("" is off).
	TLS string
	// ACMEEmail and ACMEDirectory are the ACME account's contact and server (Let's Encrypt).
	ACMEEmail, ACMEDirectory string
	// CertFile and KeyFile are the PEM certificate chain and key of tls = "files".
	CertFile, KeyFile string
	// HSTS is the max-age (seconds) of Strict-Transport-Security over HTTPS; 0: not sent.
	HSTS int
}

// Monitor is the [monitor] table: the app's service level objectives.
type Monitor struct {
	// Window is the SLO window as Prometheus writes durations ("28d", "4w").
	Window string
	// Availability is the percent of requests that must not be 5xx, in (0, 100); 0 is unset.
	Availability float64
	// Latency is the threshold of the latency objective; 0 is unset.
	Latency time.Duration
	// LatencyPercentile is the percent of requests that must be faster than Latency.
	LatencyPercentile float64
	// Local has a local-target deploy start the agent's Prometheus and Alertmanager.
	Local bool
}

// Notify is the [notify] table.
type Notify struct {
	// Webhook receives Slack-compatible JSON on deploy success, failure and rollback.
	Webhook string
}

// Kubernetes is the [kubernetes] table: where and how the app runs with target "kubernetes".
type Kubernetes struct {
	// Namespace and Context select the cluster's namespace and kubeconfig context.
	Namespace, Context string
	// Host exposes the app (Ingress, or an HTTPRoute when Gateway is set).
	Host string
	// TLSSecret holds the host's certificate; ClusterIssuer asks cert-manager for one.
	TLSSecret, ClusterIssuer string
	// IngressClass is the Ingress class; Gateway is the HTTPRoute's parent, NAME or NAMESPACE/NAME.
	IngressClass, Gateway string
	// CPU and Memory are requests per replica, CPULimit and MemoryLimit the limits.
	CPU, Memory, CPULimit, MemoryLimit string
	// MaxReplicas adds a HorizontalPodAutoscaler scaling at TargetCPU percent.
	MaxReplicas, TargetCPU int
	// StorageClass and StorageSize of each persistent data folder's volume.
	StorageClass, StorageSize string
	// AccessMode of those volumes: ReadWriteOnce (the default) or ReadWriteMany.
	AccessMode string
	// Monitoring adds a ServiceMonitor and a PrometheusRule (so does a [monitor] table).
	Monitoring bool
	// AgentBase is the image pyship's agent image is built on, for tools its backups run
	// (pg_dump for [backup] postgres); "" is none.
	AgentBase string
	// ProxySidecar puts pyship's proxy sidecar in front of the app in each pod; when the spec
	// does not set it (Positions), it is on when monitoring or the canary analysis needs it.
	ProxySidecar bool
}

// Backup is the [backup] table: scheduled, encrypted backups to S3-compatible storage. The
// age identity (private key) is never in the spec; only public keys (Recipients) are.
type Backup struct {
	// Schedule is a cron expression ("0 3 * * *", "@daily") the local agent runs backups on.
	Schedule string
	// Destination is "s3://bucket/prefix".
	Destination string
	// Endpoint is the S3 endpoint URL; Region the bucket's region.
	Endpoint, Region string
	// Recipients are the age public keys ("age1...") backups are encrypted to.
	Recipients []string
	// SigningPublicKeys are the pinned public halves of the Ed25519 keys backups are signed
	// with ("pyship-sign-ed25519:..."): only backups one of them signed are read.
	SigningPublicKeys []string
	// KeepLast, KeepDaily and KeepWeekly are the retention prune applies.
	KeepLast, KeepDaily, KeepWeekly int
	// Folders are the data folders backed up (relative to the project); nil means every
	// persistent data folder, an empty list none.
	Folders []string
	// SQLite are SQLite database files (relative to the project), backed up consistently.
	SQLite []string
	// Postgres are PostgreSQL databases as "NAME=VAR" or "VAR": the DSN is the value of the
	// variable VAR of the app's secrets file (or the environment), never the spec.
	Postgres []string
}

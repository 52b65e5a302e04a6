package spec

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// wantErr is one expected error: position, field and a piece of the message (and hint).
type wantErr struct {
	line, col int
	field     string
	msg       string
	hint      string
}

func errorsOf(t *testing.T, err error) Errors {
	t.Helper()
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v (%T) is not an Errors", err, err)
	}
	return errs
}

func checkErrors(t *testing.T, file string, err error, want []wantErr) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %d", len(want))
	}
	errs := errorsOf(t, err)
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(want), err)
	}
	for i, w := range want {
		e := errs[i]
		if e.File != file || e.Line != w.line || e.Col != w.col || e.Field != w.field ||
			!strings.Contains(e.Msg, w.msg) || !strings.Contains(e.Hint, w.hint) {
			t.Errorf("error %d:\n got %s:%d:%d field %q msg %q hint %q\nwant %s:%d:%d field %q msg ~%q hint ~%q",
				i, e.File, e.Line, e.Col, e.Field, e.Msg, e.Hint, file, w.line, w.col, w.field, w.msg, w.hint)
		}
	}
}

const testRecipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		env  string
		want []wantErr
	}{
		{"unknown key with suggestion", "[run]\nprot = 8000\n", "",
			[]wantErr{{2, 1, "run.prot", `unknown key "prot" in [run]; allowed keys: command, kind, port, workers`, `did you mean "port"?`}}},
		{"camelCase key", "[health]\nstartupTimeout = \"1m\"\n", "",
			[]wantErr{{2, 1, "health.startupTimeout", "unknown key", `did you mean "startup_timeout"?`}}},
		{"key in the wrong table", "port = 8000\n", "",
			[]wantErr{{1, 1, "port", `unknown key "port" at the top level`, `"port" belongs in [run]`}}},
		{"unknown table", "[deploi]\nreplicas = 2\n", "",
			[]wantErr{{1, 1, "deploi", "unknown key", `did you mean "deploy"?`}}},
		{"wrong type int", "[run]\nport = \"8000\"\n", "",
			[]wantErr{{2, 8, "run.port", "must be an integer, got string", "remove the quotes: port = 8000"}}},
		{"wrong type string", "[build]\npython = 3.12\n", "",
			[]wantErr{{2, 10, "build.python", "must be a string, got float", `quote it: python = "3.12"`}}},
		{"wrong type table", "run = 3\n", "",
			[]wantErr{{1, 7, "run", "must be a table, got integer", "[run]"}}},
		{"wrong type array", "[build]\nexclude = \"tests/\"\n", "",
			[]wantErr{{2, 11, "build.exclude", "must be an array of strings, got string", `exclude = ["tests/"]`}}},
		{"wrong element type", "[deploy.canary]\nsteps = [10, \"50\"]\n", "",
			[]wantErr{{2, 14, "deploy.canary.steps", "must be an array of integers, got an element of type string", ""}}},
		{"out of range", "[run]\nport = 70000\n", "",
			[]wantErr{{2, 8, "run.port", "must be between 1 and 65535, got 70000", ""}}},
		{"keep_releases out of range", "[deploy]\nkeep_releases = 0\n", "",
			[]wantErr{{2, 17, "deploy.keep_releases", "must be between 1 and 100, got 0", ""}}},
		{"float out of range", "[deploy.canary]\nmax_latency_ratio = 0.5\n", "",
			[]wantErr{{2, 21, "deploy.canary.max_latency_ratio", "must be at least 1, got 0.5", ""}}},
		{"nan", "[deploy.canary]\nmax_error_rate = nan\n", "",
			[]wantErr{{2, 18, "deploy.canary.max_error_rate", "must be between 0 and 1", ""}}},
		{"bad cron", "[backup]\nschedule = \"0 25 * * *\"\ndestination = \"s3://b\"\nrecipients = [\"" + testRecipient + "\"]\n", "",
			[]wantErr{{2, 12, "backup.schedule", "is not a valid schedule", "e.g. \"0 3 * * *\""}}},
		{"destination without s3", "[backup]\ndestination = \"my-bucket/shop\"\n", "",
			[]wantErr{{2, 15, "backup.destination", `must be s3://BUCKET or s3://BUCKET/PREFIX, got "my-bucket/shop"`, `write "s3://my-bucket/shop"`}}},
		{"identity as recipient", "[backup]\nrecipients = [\"AGE-SECRET-KEY-1XYZ\"]\n", "",
			[]wantErr{{2, 15, "backup.recipients", "is an age identity (private key)", "keep the identity on your machine"}}},
		{"bad recipient", "[backup]\nrecipients = [\"" + testRecipient + "\", \"age1nope\"]\n", "",
			[]wantErr{{2, 81, "backup.recipients", `must be an age public key (age1...), got "age1nope"`, "pyship backup keygen"}}},
		{"dsn in the spec", "[backup]\npostgres = [\"postgres://u:pw@db/shop\"]\n", "",
			[]wantErr{{2, 13, "backup.postgres", "must name the variable holding the DSN", "DATABASE_URL=postgres://"}}},
		{"keep out of range", "[backup]\nkeep_daily = -1\n", "",
			[]wantErr{{2, 14, "backup.keep_daily", "must be between 0 and 10000, got -1", ""}}},
		{"keep nothing", "[backup]\nkeep_last = 0\n", "",
			[]wantErr{{2, 1, "backup.keep_last", "the retention keeps no backup at all", "keep_last = 7"}}},
		{"schedule without destination", "[backup]\nschedule = \"@daily\"\nrecipients = [\"" + testRecipient + "\"]\n", "",
			[]wantErr{{2, 1, "backup.schedule", "needs [backup] destination", "s3://BUCKET/PREFIX"}}},
		{"backup_before without [backup]", "[deploy]\nbackup_before = true\n", "",
			[]wantErr{{2, 1, "deploy.backup_before", "needs [backup] destination", ""}, {2, 1, "deploy.backup_before", "needs [backup] recipients", ""}}},
		{"backup overlay", "[backup]\ndestination = \"s3://b\"\n[env.prod]\nbackup.destination = \"b2\"\n", "prod",
			[]wantErr{{4, 22, "env.prod.backup.destination", "must be s3://BUCKET", ""}}},
		{"bad enum", "[deploy]\nstrategy = \"bluegreen\"\n", "",
			[]wantErr{{2, 12, "deploy.strategy", `must be one of "rolling", "blue-green", "canary" or "recreate", got "bluegreen"`, `did you mean "blue-green"?`}}},
		{"bad duration", "[health]\ninterval = \"5 seconds\"\n", "",
			[]wantErr{{2, 12, "health.interval", `must be a duration like "30s"`, ""}}},
		{"duration without unit", "[health]\ninterval = \"5\"\n", "",
			[]wantErr{{2, 12, "health.interval", `got "5"`, `add a unit: interval = "5s"`}}},
		{"duration as integer", "[deploy]\ndrain_timeout = 30\n", "",
			[]wantErr{{2, 17, "deploy.drain_timeout", "must be a duration string", `drain_timeout = "30s"`}}},
		{"zero duration", "[deploy.canary]\npause = \"0s\"\n", "",
			[]wantErr{{2, 9, "deploy.canary.pause", "must be greater than 0", `write a positive duration like "1s", or remove the key to use the default ("30s")`}}},
		{"negative duration as integer", "[health]\ntimeout = -1\n", "",
			[]wantErr{{2, 11, "health.timeout", "must be a duration string", `durations must be positive: write e.g. timeout = "1s"`}}},
		{"zero duration as integer", "[health]\ntimeout = 0\n", "",
			[]wantErr{{2, 11, "health.timeout", "must be a duration string", `write e.g. timeout = "2s" (the default), or remove the key`}}},
		{"negative duration without unit", "[health]\ninterval = \"-3\"\n", "",
			[]wantErr{{2, 12, "health.interval", `got "-3"`, `durations must be positive: write e.g. interval = "3s"`}}},
		{"no canary steps", "[deploy]\nstrategy = \"canary\"\n[deploy.canary]\nsteps = []\n", "",
			[]wantErr{{4, 9, "deploy.canary.steps", "must list at least one step, got []", "e.g. steps = [10, 50, 100]"}}},
		{"no canary steps in an overlay", "[env.prod.deploy.canary]\nsteps = []\n", "",
			[]wantErr{{2, 9, "env.prod.deploy.canary.steps", "must list at least one step", ""}}},
		{"duration too long", "[health]\nstartup_timeout = \"2h\"\n", "",
			[]wantErr{{2, 19, "health.startup_timeout", `must be at most 1h, got "2h"`, ""}}},
		{"timeout above interval", "[health]\ninterval = \"1s\"\ntimeout = \"3s\"\n", "",
			[]wantErr{{3, 11, "health.timeout", "health.timeout (3s) must not exceed health.interval (1s)", ""}}},
		{"bad name", "name = \"My_App\"\n", "",
			[]wantErr{{1, 8, "name", `must be a DNS-1123 label`, `try "my-app"`}}},
		{"name too long", "name = \"" + strings.Repeat("a", 64) + "\"\n", "",
			[]wantErr{{1, 8, "name", "at most 63 characters", ""}}},
		{"bad python", "[build]\npython = \"2.7\"\n", "",
			[]wantErr{{2, 10, "build.python", `must be a Python 3 version like "3.12"`, ""}}},
		{"bad env var name", "[env]\n\"MY-VAR\" = \"x\"\n", "",
			[]wantErr{{2, 1, "env.MY-VAR", `"MY-VAR" is not a valid environment variable name`, "MY_VAR"}}},
		{"env array", "[env]\nHOSTS = [\"a\"]\n", "",
			[]wantErr{{2, 9, "env.HOSTS", "must be a string, number or boolean", ""}}},
		{"bad overlay name", "[env.Prod]\nrun.port = 1\n", "",
			[]wantErr{{1, 1, "env.Prod", `environment overlay name "Prod" must be a DNS-1123 label`, `Prod = "..."`}}},
		{"unknown overlay", "[env.production]\nrun.port = 80\n[env.staging]\nrun.port = 81\n", "prod",
			[]wantErr{{0, 0, "env", `unknown environment "prod": the spec declares "production" and "staging"`, `did you mean "production"?`}}},
		{"no overlays", "name = \"x\"\n", "production",
			[]wantErr{{0, 0, "env", `unknown environment "production": the spec declares no environment overlays`, "add an [env.production] table"}}},
		{"name in overlay", "name = \"a\"\n[env.production]\nname = \"b\"\n", "",
			[]wantErr{{3, 1, "env.production.name", "cannot be set in an environment overlay", ""}}},
		{"nested overlay", "[env.production.env.staging]\nA = 1\n", "",
			[]wantErr{{1, 1, "env.production.env.staging", "environment overlays cannot be nested", "[env.staging]"}}},
		{"error inside overlay", "[run]\nport = 80\n[env.production.run]\nport = 0\n", "",
			[]wantErr{{4, 8, "env.production.run.port", "must be between 1 and 65535, got 0", ""}}},
		{"unknown key inside overlay", "[env.production.run]\nprot = 80\n", "production",
			[]wantErr{{2, 1, "env.production.run.prot", "unknown key", `did you mean "port"?`}}},
		{"cross-field error caused by an overlay", "[health]\ntimeout = \"2s\"\n[env.production.health]\ninterval = \"1s\"\n", "",
			[]wantErr{{2, 11, "health.timeout", "must not exceed health.interval (1s) (with [env.production] applied)", ""}}},
		{"steps not ascending", "[deploy.canary]\nsteps = [10, 50, 50]\n", "",
			[]wantErr{{2, 18, "deploy.canary.steps", "must be strictly ascending, got 50 after 50", ""}}},
		{"step out of range", "[deploy.canary]\nsteps = [0, 101]\n", "",
			[]wantErr{
				{2, 10, "deploy.canary.steps", "must be between 1 and 100, got 0", ""},
				{2, 13, "deploy.canary.steps", "must be between 1 and 100, got 101", ""}}},
		{"data folders", "[data]\npersistent = [\"data\", \"/srv\", \"../x\", \"data/\"]\nstatic = [\"data\"]\n", "",
			[]wantErr{
				{2, 23, "data.persistent", `absolute path "/srv"`, `write "srv"`},
				{2, 31, "data.persistent", `must stay inside the project folder, got "../x"`, ""},
				{2, 39, "data.persistent", `lists "data/" twice`, ""},
				{3, 11, "data.static", `"data" is also in data.persistent`, "not both"}}},
		{"tls without hosts", "[edge]\ntls = \"acme\"\n", "",
			[]wantErr{{2, 7, "edge.tls", "needs [edge] hosts: certificates are for host names", "hosts = ["}}},
		{"tls files without the files", "[edge]\nhosts = [\"a.example\"]\ntls = \"files\"\ncert_file = \"certs/x.pem\"\n", "",
			[]wantErr{
				{3, 7, "edge.tls", `is "files" but cert_file or key_file is missing`, "cert_file and key_file"},
				{4, 13, "edge.cert_file", `must be an absolute path (or ~/...) on the machine the agent runs on, got "certs/x.pem"`, ""}}},
		{"tls mode", "[edge]\nhosts = [\"a.example\"]\ntls = \"yes\"\nhsts = 0\n", "",
			[]wantErr{{3, 7, "edge.tls", "", ""}, {4, 8, "edge.hsts", "", ""}}},
		{"webhook", "[notify]\nwebhook = \"ftp://x\"\n", "",
			[]wantErr{{2, 11, "notify.webhook", `must be an http or https URL, got "ftp://x"`, ""}}},
		{"monitor objectives outside (0, 100)", "[monitor]\navailability = 100\nlatency = \"300ms\"\nlatency_percentile = 0\n", "",
			[]wantErr{
				{2, 16, "monitor.availability", "must be greater than 0 and less than 100, got 100", ""},
				{4, 22, "monitor.latency_percentile", "must be greater than 0 and less than 100, got 0", ""}}},
		{"monitor negative availability", "[monitor]\navailability = -99.9\n", "",
			[]wantErr{{2, 16, "monitor.availability", "must be greater than 0 and less than 100, got -99.9", ""}}},
		{"monitor latency without a unit", "[monitor]\nlatency = 300\n", "",
			[]wantErr{{2, 11, "monitor.latency", "must be a duration string", `latency = "300ms"`}}},
		{"monitor latency string without a unit", "[monitor]\nlatency = \"300\"\n", "",
			[]wantErr{{2, 11, "monitor.latency", `must be a duration like "30s"`, `add a unit: latency = "300ms"`}}},
		{"monitor small latency without a unit", "[monitor]\nlatency = 2\n", "",
			[]wantErr{{2, 11, "monitor.latency", "must be a duration string", `latency = "2s"`}}},
		{"monitor latency not a bound", "[monitor]\nlatency = \"320ms\"\n", "",
			[]wantErr{{2, 11, "monitor.latency", `must be a bucket bound of pyship's latency histogram (500µs, 1ms, 2.5ms, 5ms, 10ms, 25ms, 50ms, 100ms, 200ms, 250ms, 300ms, 500ms, 750ms, 1s, 1.5s, 2s, 2.5s, 5s, 10s, 30s), got "320ms"`, `latency = "300ms"`}}},
		{"monitor window not a duration", "[monitor]\nwindow = \"a month\"\n", "",
			[]wantErr{{2, 10, "monitor.window", `must be a duration like "28d", "30d" or "4w" (units m, h, d, w), got "a month"`, `window = "28d"`}}},
		{"monitor window without a unit", "[monitor]\nwindow = \"28\"\n", "",
			[]wantErr{{2, 10, "monitor.window", `got "28"`, `add a unit: window = "28d"`}}},
		{"monitor window too short", "[monitor]\nwindow = \"1d\"\n", "",
			[]wantErr{{2, 10, "monitor.window", `must be from 7d to 90d, got "1d"`, ""}}},
		{"monitor percentile without latency", "[monitor]\nlatency_percentile = 99\n", "",
			[]wantErr{{2, 1, "monitor.latency_percentile", "needs [monitor] latency", `latency = "300ms"`}}},
		{"kubernetes quantities", "[kubernetes]\nmemory = \"512MB\"\ncpu = \"half\"\n", "",
			[]wantErr{
				{2, 10, "kubernetes.memory", `must be a Kubernetes quantity like "500m", "1", "256Mi" or "1Gi", got "512MB"`, `write "512Mi"`},
				{3, 7, "kubernetes.cpu", `got "half"`, ""}}},
		{"kubernetes host and gateway", "[kubernetes]\nhost = \"https://Shop.example.com/\"\ngateway = \"a/b/c\"\nmax_replicas = 0\n", "",
			[]wantErr{
				{2, 8, "kubernetes.host", "must be a DNS name", `write the host only: "shop.example.com"`},
				{3, 11, "kubernetes.gateway", `must be a Gateway as NAME or NAMESPACE/NAME (DNS-1123 labels), got "a/b/c"`, ""},
				{4, 16, "kubernetes.max_replicas", "must be between 1 and 1000, got 0", ""}}},
		{"unknown kubernetes key", "[kubernetes]\nnamespaces = \"x\"\n", "",
			[]wantErr{{2, 1, "kubernetes.namespaces", "unknown key", `did you mean "namespace"?`}}},
		{"prometheus url", "[deploy.canary]\nprometheus_url = \"prometheus.monitoring\"\n", "",
			[]wantErr{{2, 18, "deploy.canary.prometheus_url", "must be an http or https URL", `write "https://prometheus.monitoring"`}}},
		{"worker with port", "[run]\nkind = \"worker\"\nport = 8000\n", "",
			[]wantErr{{3, 1, "run.port", `is set but run.kind is "worker"`, ""}}},
		{"duplicate key", "[run]\nport = 1\nport = 2\n", "",
			[]wantErr{{3, 1, "run.port", `"run.port" is already set at line 2`, ""}}},
		{"table defined twice", "[run]\nport = 1\n[run]\nworkers = 2\n", "",
			[]wantErr{{3, 1, "run", "defines table \"run\" a second time; it is first defined at line 1", ""}}},
		{"array of tables", "[[run]]\nport = 1\n", "",
			[]wantErr{{1, 1, "run", "[[run]] declares an array of tables", "[run]"}}},
		{"syntax error", "[run]\nport = \n", "",
			[]wantErr{{2, 8, "", "invalid TOML", "toml.io"}}},
		{"unterminated string", "name = \"abc\n", "",
			[]wantErr{{1, 12, "", "invalid TOML: basic strings cannot have new lines", ""}}},
		{"multiple errors at once", "name = \"Bad Name\"\n[run]\nport = 0\nkind = \"web\"\nworkrs = 2\n[deploy]\nreplicas = 2000\n", "",
			[]wantErr{
				{1, 8, "name", "DNS-1123", `try "bad-name"`},
				{3, 8, "run.port", "between 1 and 65535", ""},
				{5, 1, "run.workrs", "unknown key", `did you mean "workers"?`},
				{7, 12, "deploy.replicas", "between 1 and 1000, got 2000", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("pyship.toml", []byte(tt.src), tt.env)
			if s != nil {
				t.Errorf("got a spec with an error")
			}
			checkErrors(t, "pyship.toml", err, tt.want)
		})
	}
}

func TestErrorFormat(t *testing.T) {
	_, err := Parse("pyship.toml", []byte("[run]\nport = 70000\nprot = 1\n"), "")
	want := "pyship.toml:2:8: run.port: must be between 1 and 65535, got 70000\n" +
		"pyship.toml:3:1: run.prot: unknown key \"prot\" in [run]; allowed keys: command, kind, port, workers\n" +
		"    hint: did you mean \"port\"?"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	var first *Error
	if !errors.As(err, &first) || first.Field != "run.port" {
		t.Errorf("errors.As(*Error) = %v, want the run.port error", first)
	}
}

func TestParseValid(t *testing.T) {
	src := `name = "shop-api"
version = "1.2.3"

[build]
python = "3.12.4"
base = "python:3.12-slim"
registry = "ghcr.io/acme"
exclude = ["tests/", "*.md"]

[run]
command = "gunicorn app:app"
kind = "web"
port = 0x1F40
workers = 4

[health]
type = "http"
path = "/healthz"
interval = "10s"
timeout = "2s"
startup_timeout = "1m30s"

[deploy]
target = "kubernetes"
strategy = "canary"
replicas = 3
drain_timeout = "45s"
rollback_window = "1h"
backup_before = true
canary = { steps = [5, 25, 100], pause = "1m", min_requests = 0, max_error_rate = 0.05, max_latency_ratio = 2 }

[config]
dir = "settings"

[data]
persistent = ["data", "uploads"]
static = ["static"]

[secrets]
file = "../secrets/shop.env"

[notify]
webhook = "https://hooks.example.com/x"

[env]
DEBUG = false
WORKERS = 4
RATIO = 0.5
GREETING = "hé \"you\""

[kubernetes]
namespace = "shop"
context = "prod"
host = "shop.example.com"
tls_secret = "shop-tls"
cluster_issuer = "letsencrypt"
ingress_class = "nginx"
gateway = "infra/public"
cpu = "500m"
memory = "1Gi"
cpu_limit = "2"
memory_limit = "2Gi"
max_replicas = 10
target_cpu = 60
storage_class = "fast"
storage_size = "10Gi"
monitoring = true

[backup]
schedule = "30 3 * * 1-5"
destination = "s3://acme-backups/shop"
endpoint = "http://127.0.0.1:9000"
region = "eu-central-1"
recipients = ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"]
keep_last = 3
keep_daily = 7
keep_weekly = 4
folders = ["uploads"]
sqlite = ["data/app.db"]
postgres = ["db=DATABASE_URL", "ANALYTICS_DSN"]
`
	s, err := Parse("pyship.toml", []byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	want := &Spec{
		Name: "shop-api", Version: "1.2.3",
		Build:  Build{Python: "3.12.4", Base: "python:3.12-slim", Registry: "ghcr.io/acme", Exclude: []string{"tests/", "*.md"}},
		Run:    Run{Command: "gunicorn app:app", Kind: "web", Port: 8000, Workers: 4},
		Health: Health{Type: "http", Path: "/healthz", Interval: 10 * time.Second, Timeout: 2 * time.Second, StartupTimeout: 90 * time.Second},
		Deploy: Deploy{Target: "kubernetes", Strategy: "canary", Replicas: 3, DrainTimeout: 45 * time.Second, RollbackWindow: time.Hour, BackupBefore: true,
			Canary: Canary{Steps: []int{5, 25, 100}, Pause: time.Minute, MinRequests: 0, MaxErrorRate: 0.05, MaxLatencyRatio: 2}},
		Env:     map[string]string{"DEBUG": "false", "WORKERS": "4", "RATIO": "0.5", "GREETING": `hé "you"`},
		Config:  Config{Dir: "settings"},
		Data:    Data{Persistent: []string{"data", "uploads"}, Static: []string{"static"}},
		Secrets: Secrets{File: "../secrets/shop.env"},
		Notify:  Notify{Webhook: "https://hooks.example.com/x"},
		Kubernetes: Kubernetes{Namespace: "shop", Context: "prod", Host: "shop.example.com", TLSSecret: "shop-tls", ClusterIssuer: "letsencrypt",
			IngressClass: "nginx", Gateway: "infra/public", CPU: "500m", Memory: "1Gi", CPULimit: "2", MemoryLimit: "2Gi",
			MaxReplicas: 10, TargetCPU: 60, StorageClass: "fast", StorageSize: "10Gi", Monitoring: true},
		Backup: Backup{Schedule: "30 3 * * 1-5", Destination: "s3://acme-backups/shop", Endpoint: "http://127.0.0.1:9000", Region: "eu-central-1",
			Recipients: []string{"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"}, KeepLast: 3, KeepDaily: 7, KeepWeekly: 4,
			Folders: []string{"uploads"}, SQLite: []string{"data/app.db"}, Postgres: []string{"db=DATABASE_URL", "ANALYTICS_DSN"}},
		File: "pyship.toml",
	}
	positions := s.Positions
	s.Positions = nil
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
	for path, line := range map[string]int{
		"name": 1, "build.python": 5, "run.port": 13, "health.startup_timeout": 21,
		"deploy.canary.steps": 30, "deploy.canary.max_latency_ratio": 30, "env.DEBUG": 46, "env.GREETING": 49,
	} {
		if p := positions[path]; p.Line != line || p.File != "pyship.toml" {
			t.Errorf("Positions[%q] = %+v, want line %d", path, p, line)
		}
	}
	if p := positions["deploy.canary.pause"]; p.Col != 34 {
		t.Errorf("Positions[deploy.canary.pause] = %+v, want col 34", p)
	}
	if _, ok := positions["run.command"]; !ok {
		t.Error("Positions lacks run.command")
	}
	if _, ok := positions["build"]; ok {
		t.Error("Positions has a table, want only keys")
	}
}

const overlaySpec = `name = "shop"

[run]
port = 8000
workers = 2

[deploy]
replicas = 1
strategy = "rolling"

[data]
persistent = ["data", "uploads"]

[env]
LOG_LEVEL = "info"
DEBUG = true

[env.staging]
deploy.replicas = 2

[env.production]
deploy = { replicas = 3, strategy = "canary" }
data.persistent = ["data"]

[env.production.run]
workers = 8

[env.production.env]
LOG_LEVEL = "warning"
`

func TestOverlayMerge(t *testing.T) {
	base, err := Parse("pyship.toml", []byte(overlaySpec), "")
	if err != nil {
		t.Fatal(err)
	}
	if base.Environment != "" || !reflect.DeepEqual(base.Environments, []string{"production", "staging"}) {
		t.Errorf("base: Environment %q, Environments %v", base.Environment, base.Environments)
	}
	if base.Deploy.Replicas != 1 || base.Run.Workers != 2 || base.Env["LOG_LEVEL"] != "info" || len(base.Data.Persistent) != 2 {
		t.Errorf("base spec has overlay values: %+v", base)
	}
	if _, ok := base.Env["production"]; ok {
		t.Error("an overlay was taken for a variable")
	}

	prod, err := Parse("pyship.toml", []byte(overlaySpec), "production")
	if err != nil {
		t.Fatal(err)
	}
	if prod.Environment != "production" || !reflect.DeepEqual(prod.Environments, []string{"production", "staging"}) {
		t.Errorf("prod: Environment %q, Environments %v", prod.Environment, prod.Environments)
	}
	// Tables merge key by key; scalars and arrays replace.
	if prod.Name != "shop" || prod.Run.Port != 8000 || prod.Run.Workers != 8 ||
		prod.Deploy.Replicas != 3 || prod.Deploy.Strategy != "canary" ||
		!reflect.DeepEqual(prod.Data.Persistent, []string{"data"}) {
		t.Errorf("merged spec: %+v", prod)
	}
	if !reflect.DeepEqual(prod.Env, map[string]string{"LOG_LEVEL": "warning", "DEBUG": "true"}) {
		t.Errorf("merged env = %v", prod.Env)
	}
	for path, line := range map[string]int{
		"name": 1, "run.port": 4, "run.workers": 26, "deploy.replicas": 22, "deploy.strategy": 22,
		"data.persistent": 23, "env.LOG_LEVEL": 29, "env.DEBUG": 16,
	} {
		if p := prod.Positions[path]; p.Line != line {
			t.Errorf("Positions[%q] = %+v, want line %d", path, p, line)
		}
	}
	if p := prod.Positions["deploy.strategy"]; p.Col != 26 {
		t.Errorf("Positions[deploy.strategy] col = %d, want 26 (inside the inline table)", p.Col)
	}

	staging, err := Parse("pyship.toml", []byte(overlaySpec), "staging")
	if err != nil {
		t.Fatal(err)
	}
	if staging.Deploy.Replicas != 2 || staging.Deploy.Strategy != "rolling" || staging.Run.Workers != 2 {
		t.Errorf("staging spec: %+v", staging)
	}
}

func TestEnvVariablesAndOverlays(t *testing.T) {
	src := "[env]\nproduction = \"yes\"\nA_1 = 1.5\n_X = -3\n[env.qa]\nrun.port = 9000\n"
	s, err := Parse("pyship.toml", []byte(src), "qa")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"production": "yes", "A_1": "1.5", "_X": "-3"}
	if !reflect.DeepEqual(s.Env, want) {
		t.Errorf("Env = %v, want %v", s.Env, want)
	}
	if !reflect.DeepEqual(s.Environments, []string{"qa"}) || s.Run.Port != 9000 {
		t.Errorf("Environments = %v, port %d", s.Environments, s.Run.Port)
	}
	if p := s.Positions["env.A_1"]; p.Line != 3 {
		t.Errorf("Positions[env.A_1] = %+v", p)
	}
}

const pyproject = `[project]
name = "shop"
dependencies = ["flask"]

[tool.black]
line-length = 100

[[tool.uv.index]]
url = "https://example.com"

[tool.pyship]
name = "shop"

[tool.pyship.run]
port = 9000
prot = 1

[tool.pyship.env.production]
run.workers = 0
`

func TestPyproject(t *testing.T) {
	_, err := Parse("pyproject.toml", []byte(pyproject), "")
	checkErrors(t, "pyproject.toml", err, []wantErr{
		{16, 1, "run.prot", `unknown key "prot" in [tool.pyship.run]`, `did you mean "port"?`},
		{19, 15, "env.production.run.workers", "must be between 1 and 512, got 0", ""},
	})

	fixed := strings.Replace(strings.Replace(pyproject, "prot = 1\n", "", 1), "workers = 0", "workers = 6", 1)
	s, err := Parse("pyproject.toml", []byte(fixed), "production")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "shop" || s.Run.Port != 9000 || s.Run.Workers != 6 || s.File != "pyproject.toml" {
		t.Errorf("spec = %+v", s)
	}
	if p := s.Positions["run.port"]; p.Line != 15 || p.Col != 1 {
		t.Errorf("Positions[run.port] = %+v, want 15:1", p)
	}
	if p := s.Positions["run.workers"]; p.Line != 18 {
		t.Errorf("Positions[run.workers] = %+v, want line 18 (in the overlay)", p)
	}

	// The spec may also be written with dotted keys or inline tables under [tool].
	s, err = Parse("pyproject.toml", []byte("[tool]\npyship.run.port = 7000\npyship.deploy = { replicas = 2 }\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Run.Port != 7000 || s.Deploy.Replicas != 2 || s.Positions["deploy.replicas"].Line != 3 {
		t.Errorf("spec = %+v", s)
	}

	// Without [tool.pyship], there is no spec.
	s, err = Parse("pyproject.toml", []byte("[project]\nname = \"x\"\n"), "")
	if err != nil || s.File != "" {
		t.Errorf("pyproject.toml without [tool.pyship]: %+v, %v", s, err)
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	t.Run("no spec", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "pyproject.toml", "[project]\nname = \"x\"\n")
		s, err := Load(dir, "")
		if err != nil || s == nil || s.File != "" || s.Name != "" {
			t.Fatalf("Load = %+v, %v; want an empty spec", s, err)
		}
		_, err = Load(dir, "production")
		checkErrors(t, "", err, []wantErr{{0, 0, "env", `unknown environment "production": the project has no pyship.toml`, "[env.production]"}})
	})
	t.Run("pyship.toml", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "pyship.toml", "[run]\nport = 8080\n[env.production]\nrun.port = 80\n")
		write(t, dir, "pyproject.toml", "[project]\nname = \"x\"\n")
		s, err := Load(dir, "production")
		if err != nil {
			t.Fatal(err)
		}
		if s.File != filepath.Join(dir, "pyship.toml") || s.Run.Port != 80 || s.Positions["run.port"].File != s.File {
			t.Errorf("Load = %+v", s)
		}
	})
	t.Run("pyproject.toml", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "pyproject.toml", "[project]\nname = \"x\"\n\n[tool.pyship.run]\nport = 8080\n")
		s, err := Load(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		if s.File != filepath.Join(dir, "pyproject.toml") || s.Run.Port != 8080 || s.Positions["run.port"].Line != 5 {
			t.Errorf("Load = %+v", s)
		}
	})
	t.Run("both files", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "pyship.toml", "name = \"a\"\n")
		write(t, dir, "pyproject.toml", "[project]\nname = \"x\"\n\n[tool.pyship]\nname = \"b\"\n")
		_, err := Load(dir, "")
		py, sp := filepath.Join(dir, "pyproject.toml"), filepath.Join(dir, "pyship.toml")
		checkErrors(t, py, err, []wantErr{{4, 1, "", "the spec is defined twice, in " + sp + " and in [tool.pyship] of " + py + "; keep one", "delete"}})
	})
	t.Run("broken pyproject.toml without spec", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "pyproject.toml", "[project\n")
		_, err := Load(dir, "")
		checkErrors(t, filepath.Join(dir, "pyproject.toml"), err, []wantErr{{1, 9, "", "invalid TOML", ""}})
		// With a pyship.toml, pyproject.toml's syntax is not the spec's business.
		write(t, dir, "pyship.toml", "name = \"a\"\n")
		if s, err := Load(dir, ""); err != nil || s.Name != "a" {
			t.Errorf("Load = %+v, %v", s, err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "pyship.toml"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir, "")
		if err == nil || !strings.Contains(err.Error(), "reading spec") {
			t.Errorf("Load on a folder named pyship.toml: %v", err)
		}
	})
}

func TestBackupOverlay(t *testing.T) {
	src := "[backup]\ndestination = \"s3://backups/shop\"\nrecipients = [\"" + testRecipient + "\"]\nschedule = \"@daily\"\n\n" +
		"[env.staging]\nbackup.destination = \"s3://backups/shop-staging\"\nbackup.keep_last = 2\n"
	s, err := Parse("pyship.toml", []byte(src), "staging")
	if err != nil {
		t.Fatal(err)
	}
	if s.Backup.Destination != "s3://backups/shop-staging" || s.Backup.Schedule != "@daily" || s.Backup.KeepLast != 2 || len(s.Backup.Recipients) != 1 {
		t.Fatalf("staging backup = %+v", s.Backup)
	}
	if p := s.Positions["backup.destination"]; p.Line != 7 {
		t.Errorf("Positions[backup.destination] = %+v, want the overlay's line 7", p)
	}
	base, err := Parse("pyship.toml", []byte(src), "")
	if err != nil || base.Backup.Destination != "s3://backups/shop" || base.Backup.KeepLast != 0 {
		t.Fatalf("base backup = %+v, %v", base.Backup, err)
	}
}

func TestMonitorValid(t *testing.T) {
	s, err := Parse("pyship.toml", []byte("[monitor]\nwindow = \"4w\"\navailability = 99.95\nlatency = \"1.5s\"\nlatency_percentile = 99\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	want := Monitor{Window: "4w", Availability: 99.95, Latency: 1500 * time.Millisecond, LatencyPercentile: 99}
	if s.Monitor != want {
		t.Errorf("Monitor = %+v, want %+v", s.Monitor, want)
	}
}

func TestProjectRoot(t *testing.T) {
	root := t.TempDir()
	for _, f := range []struct{ path, text string }{
		{"app/pyship.toml", "name = \"app\"\n"},
		{"app/src/pkg/x.py", ""},
		{"tool/pyproject.toml", "[project]\nname = \"tool\"\n[tool.pyship]\nname = \"tool\"\n"},
		{"tool/docs/x.md", ""},
		{"plain/pyproject.toml", "[project]\nname = \"plain\"\n"},
		{"plain/src/x.py", ""},
	} {
		p := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for dir, want := range map[string]string{
		"app":          "app",
		"app/src/pkg":  "app",
		"tool/docs":    "tool",
		"plain/src":    "plain/src", // a pyproject.toml without [tool.pyship] is no spec
		"app/../plain": "app/../plain",
	} {
		in := filepath.Join(root, dir)
		got := ProjectRoot(in)
		if want == dir {
			if got != in {
				t.Errorf("ProjectRoot(%s) = %s, want it unchanged", dir, got)
			}
		} else if got != filepath.Join(root, want) {
			t.Errorf("ProjectRoot(%s) = %s, want %s", dir, got, filepath.Join(root, want))
		}
	}
}

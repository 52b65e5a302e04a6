package spec

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/rollout"
)

// validate checks the values of every field set (enums, ranges, patterns), then the rules that
// tie fields together.
func (d *decoder) validate() {
	bad := map[string]bool{} // fields with an error already
	for _, f := range d.fields {
		n := d.nodes[f.path]
		if n == nil || f.kind == kindTable {
			continue
		}
		before := len(d.errs)
		d.validateField(f, n)
		if len(d.errs) > before {
			bad[f.path] = true
		}
	}
	d.crossChecks(bad)
}

func (d *decoder) validateField(f *field, n *node) {
	switch v := f.ptr(d.spec).(type) {
	case *string:
		d.checkString(f, n, n, *v)
	case *int:
		d.checkNumber(f, n, n, float64(*v), strconv.Itoa(*v))
	case *float64:
		d.checkNumber(f, n, n, *v, n.str)
	case *time.Duration:
		switch {
		case *v <= 0:
			d.errorf(n, n.pos, f.path, `write a positive duration like "1s", or remove the key to use the default`+defaultIn(f), "must be greater than 0, got %q", n.str)
		case f.maxDur > 0 && *v > f.maxDur:
			d.errorf(n, n.pos, f.path, "", "must be at most %s, got %q", formatDuration(f.maxDur), n.str)
		}
	case *[]string:
		for i, s := range *v {
			d.checkString(f, n, n.arr[i], s)
		}
	case *[]int:
		for i, x := range *v {
			d.checkNumber(f, n, n.arr[i], float64(x), strconv.Itoa(x))
		}
	}
}

// checkString validates s, the value of f held by n (or its element e).
func (d *decoder) checkString(f *field, n, e *node, s string) {
	if len(f.enum) > 0 && !slices.Contains(f.enum, s) {
		hint := ""
		if sg := suggest(s, f.enum); sg != "" {
			hint = fmt.Sprintf("did you mean %q?", sg)
		}
		d.errorf(n, e.pos, f.path, hint, "must be %s, got %q", oneOf(f.enum), s)
		return
	}
	if f.check != nil {
		if msg, hint := f.check(s); msg != "" {
			d.errorf(n, e.pos, f.path, hint, "%s", msg)
		}
	}
}

func oneOf(enum []string) string {
	if len(enum) == 1 {
		return fmt.Sprintf("%q", enum[0])
	}
	return "one of " + quoteList(enum, "or")
}

// checkNumber validates x, the value of f held by n (or its element e); text is x as written.
func (d *decoder) checkNumber(f *field, n, e *node, x float64, text string) {
	bad := math.IsNaN(x) || (f.hasMin && x < f.min) || (f.hasMax && x > f.max) || (f.open && (x == f.min || x == f.max))
	if !bad {
		return
	}
	var want string
	switch {
	case f.open:
		want = fmt.Sprintf("greater than %s and less than %s", num(f.min), num(f.max))
	case f.hasMin && f.hasMax:
		want = fmt.Sprintf("between %s and %s", num(f.min), num(f.max))
	case f.hasMin:
		want = "at least " + num(f.min)
	default:
		want = "at most " + num(f.max)
	}
	d.errorf(n, e.pos, f.path, "", "must be %s, got %s", want, text)
}

func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// crossChecks are the rules about several fields at once.
// Fields in bad have an error already: rules about them would only repeat it.
func (d *decoder) crossChecks(bad map[string]bool) {
	s := d.spec
	d.burnRateChecks(bad)
	// Canary steps go up, and there is at least one.
	if n := d.nodes["deploy.canary.steps"]; n != nil && !bad["deploy.canary.steps"] && len(s.Deploy.Canary.Steps) == 0 {
		d.errorf(n, n.pos, "deploy.canary.steps", "list the traffic percentages, e.g. steps = [10, 50, 100], or remove the key to use that default",
			"must list at least one step, got []")
	}
	if n := d.nodes["deploy.canary.steps"]; n != nil && !bad["deploy.canary.steps"] {
		for i := 1; i < len(s.Deploy.Canary.Steps); i++ {
			if s.Deploy.Canary.Steps[i] <= s.Deploy.Canary.Steps[i-1] {
				d.errorf(n, n.arr[i].pos, "deploy.canary.steps", "e.g. steps = [10, 50, 100]",
					"must be strictly ascending, got %d after %d", s.Deploy.Canary.Steps[i], s.Deploy.Canary.Steps[i-1])
				break
			}
		}
	}
	// A health check cannot take longer than the interval between two checks.
	if tn, in := d.nodes["health.timeout"], d.nodes["health.interval"]; (tn != nil || in != nil) && !bad["health.timeout"] && !bad["health.interval"] {
		timeout, interval := s.Health.Timeout, s.Health.Interval
		tdesc, idesc := "", ""
		if tn == nil {
			timeout, tdesc = 2*time.Second, " by default"
		}
		if in == nil {
			interval, idesc = 5*time.Second, " by default"
		}
		if timeout > 0 && interval > 0 && timeout > interval {
			at, path := tn, "health.timeout"
			if at == nil {
				at, path = in, "health.interval"
			}
			d.errorf(at, at.pos, path, "raise health.interval or lower health.timeout",
				"health.timeout (%s%s) must not exceed health.interval (%s%s)", formatDuration(timeout), tdesc, formatDuration(interval), idesc)
		}
	}
	// TLS is for named hosts, and its keys go with its mode.
	tls := s.Edge.TLS != "" && s.Edge.TLS != "off"
	if n := d.nodes["edge.tls"]; n != nil && tls && len(s.Edge.Hosts) == 0 && !bad["edge.hosts"] {
		d.errorf(n, n.pos, "edge.tls", `list the app's host names in [edge] hosts, e.g. hosts = ["shop.example.com"]`,
			"needs [edge] hosts: certificates are for host names")
	}
	if n := d.nodes["edge.tls"]; n != nil && s.Edge.TLS == "files" && (s.Edge.CertFile == "" || s.Edge.KeyFile == "") {
		d.errorf(n, n.pos, "edge.tls", "set [edge] cert_file and key_file to the PEM files",
			`is "files" but cert_file or key_file is missing`)
	}
	// Workers have no port.
	if s.Run.Kind == "worker" {
		if n := d.nodes["run.port"]; n != nil {
			d.errorf(n, n.key, "run.port", `remove run.port, or set run.kind = "web"`, `is set but run.kind is "worker", and workers do not listen on a port`)
		}
		if n := d.nodes["health.type"]; n != nil && (s.Health.Type == "http" || s.Health.Type == "tcp") {
			d.errorf(n, n.pos, "health.type", `use type = "process" for workers, or set run.kind = "web"`, `%q needs a port, but run.kind is "worker"`, s.Health.Type)
		}
	}
	if n := d.nodes["health.path"]; n != nil && (s.Health.Type == "tcp" || s.Health.Type == "process") {
		d.errorf(n, n.key, "health.path", `remove health.path, or set health.type = "http"`, "only applies to http checks, but health.type is %q", s.Health.Type)
	}
	d.checkDataFolders()
	d.checkBackup()
	d.checkMonitor(bad)
}

// checkMonitor rejects a latency objective the proxy's histogram cannot count exactly, and a
// percentile without a threshold.
func (d *decoder) checkMonitor(bad map[string]bool) {
	m := d.spec.Monitor
	if n := d.nodes["monitor.latency"]; n != nil && !bad["monitor.latency"] && !slices.Contains(rollout.LatencyBounds(), m.Latency) {
		d.errorf(n, n.pos, "monitor.latency", "use the nearest bound, e.g. latency = \""+formatDuration(nearestBound(m.Latency))+"\"",
			"must be a bucket bound of pyship's latency histogram (%s), got %q", latencyBoundsText(), n.str)
	}
	if n := d.nodes["monitor.latency_percentile"]; n != nil && d.nodes["monitor.latency"] == nil {
		d.errorf(n, n.key, "monitor.latency_percentile", `set the threshold too, e.g. latency = "300ms"`, "needs [monitor] latency")
	}
}

// latencyBoundsText lists the latency histogram's bounds, e.g. "500µs, 1ms, ..., 30s".
func latencyBoundsText() string {
	var parts []string
	for _, b := range rollout.LatencyBounds() {
		parts = append(parts, formatDuration(b))
	}
	return strings.Join(parts, ", ")
}

// nearestBound is the latency histogram's bound closest to d.
func nearestBound(d time.Duration) time.Duration {
	bs := rollout.LatencyBounds()
	best := bs[0]
	for _, b := range bs {
		if (b - d).Abs() < (best - d).Abs() {
			best = b
		}
	}
	return best
}

// checkBackup asks for what a scheduled backup or a backup before deploys cannot do without,
// and rejects a source listed twice.
func (d *decoder) checkBackup() {
	b := d.spec.Backup
	var needs []string
	if n := d.nodes["backup.schedule"]; n != nil {
		needs = append(needs, "backup.schedule")
	}
	if n := d.nodes["deploy.backup_before"]; n != nil && d.spec.Deploy.BackupBefore {
		needs = append(needs, "deploy.backup_before")
	}
	for _, key := range needs {
		n := d.nodes[key]
		if b.Destination == "" {
			d.errorf(n, n.key, key, `add destination = "s3://BUCKET/PREFIX" to [backup]`, "needs [backup] destination: where would the backup go?")
		}
		if len(b.Recipients) == 0 {
			d.errorf(n, n.key, key, "add recipients = [\"age1...\"] to [backup] (`pyship backup keygen` makes a key pair)", "needs [backup] recipients: the age public keys backups are encrypted to")
		}
	}
	for _, list := range []string{"backup.folders", "backup.sqlite", "backup.postgres"} {
		n := d.nodes[list]
		if n == nil {
			continue
		}
		values := map[string][]string{"backup.folders": b.Folders, "backup.sqlite": b.SQLite, "backup.postgres": b.Postgres}[list]
		seen := map[string]bool{}
		for i, v := range values {
			c := path.Clean(v)
			if list == "backup.postgres" {
				c, _ = PostgresSource(v)
			}
			if seen[c] {
				d.errorf(n, n.arr[i].pos, list, "list each source once (give two databases two names: \"a=VAR1\", \"b=VAR2\")", "lists %q twice", v)
			}
			seen[c] = true
		}
	}
	for _, key := range []string{"backup.keep_last", "backup.keep_daily", "backup.keep_weekly"} {
		if d.nodes[key] != nil && b.KeepLast+b.KeepDaily+b.KeepWeekly == 0 {
			n := d.nodes[key]
			d.errorf(n, n.key, key, "keep at least one: e.g. keep_last = 7", "the retention keeps no backup at all (keep_last, keep_daily and keep_weekly are all 0)")
			break
		}
	}
}

// checkDataFolders rejects a folder listed twice, or as both persistent and static.
func (d *decoder) checkDataFolders() {
	seen := map[string]string{} // cleaned folder → list it was first seen in
	for _, list := range []string{"data.persistent", "data.static"} {
		n := d.nodes[list]
		if n == nil {
			continue
		}
		values := d.spec.Data.Persistent
		if list == "data.static" {
			values = d.spec.Data.Static
		}
		for i, v := range values {
			c := path.Clean(v)
			switch prev, dup := seen[c]; {
			case dup && prev == list:
				d.errorf(n, n.arr[i].pos, list, "list each folder once", "lists %q twice", v)
			case dup:
				d.errorf(n, n.arr[i].pos, list, "a folder is either persistent (kept across deploys) or static (shipped with the app), not both",
					"%q is also in %s", v, prev)
			default:
				seen[c] = list
			}
		}
	}
}

// formatDuration writes d the short way: "10m" rather than "10m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if len(s) > 2 && s[len(s)-2:] == "0s" && (s[len(s)-3] == 'm' || s[len(s)-3] == 'h') {
		s = s[:len(s)-2]
	}
	if len(s) > 2 && s[len(s)-2:] == "0m" && s[len(s)-3] == 'h' {
		s = s[:len(s)-2]
	}
	return s
}

// burnRateChecks: max_burn_rate needs an availability objective ([monitor] availability) to
// compute the burn rate against.
func (d *decoder) burnRateChecks(bad map[string]bool) {
	if n := d.nodes["deploy.canary.max_burn_rate"]; n != nil && d.spec.Deploy.Canary.MaxBurnRate > 0 && d.nodes["monitor.availability"] == nil {
		d.errorf(n, n.key, "deploy.canary.max_burn_rate", "add [monitor] availability = 99.9 (the objective, in percent)", "needs an availability objective to compute the burn rate against")
	}
}

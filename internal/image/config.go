package image

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/pyship/pyship/internal/plan"
)

// User is the numeric non-root user and group the app runs as; UID is its number.
const (
	User = "65532:65532"
	UID  = 65532
)

// setConfig fills the image config: user, folder, environment, command, port, labels, time.
func setConfig(cf *v1.ConfigFile, p *plan.Plan, base *Base, vcs vcsInfo, created time.Time, o *Options) error {
	cf.Created = v1.Time{Time: created}
	cf.Author = ""
	cf.OS, cf.Architecture = Platform.OS, Platform.Architecture
	c := &cf.Config
	c.User = User
	c.WorkingDir = AppDir
	c.Entrypoint = nil
	c.Env = imageEnv(c.Env, p)
	cmd, err := command(p, base.Info, o)
	if err != nil {
		return err
	}
	c.Cmd = cmd
	for _, d := range DataDirs(p) { // the base's volumes stay
		if c.Volumes == nil {
			c.Volumes = map[string]struct{}{}
		}
		c.Volumes[d] = struct{}{}
	}
	c.ExposedPorts = nil
	if p.Run.Port > 0 {
		c.ExposedPorts = map[string]struct{}{fmt.Sprintf("%d/tcp", p.Run.Port): {}}
	}
	labels := map[string]string{}
	for k, v := range c.Labels {
		labels[k] = v
	}
	for k, v := range ociLabels(p, vcs, created) {
		labels[k] = v
	}
	labels["org.opencontainers.image.base.name"] = base.Ref
	labels["org.opencontainers.image.base.digest"] = base.Digest.String()
	c.Labels = labels
	return nil
}

// ociLabels are the OCI labels of the app's image (title, created, version, revision, source),
// without those of the base; created is zero for the commit time.
func ociLabels(p *plan.Plan, vcs vcsInfo, created time.Time) map[string]string {
	if created.IsZero() {
		created = vcs.Time
	}
	labels := map[string]string{
		"org.opencontainers.image.title":   p.Name,
		"org.opencontainers.image.created": created.UTC().Truncate(time.Second).Format(time.RFC3339),
	}
	if p.Version != "" {
		labels["org.opencontainers.image.version"] = p.Version
	}
	if vcs.Revision != "" {
		labels["org.opencontainers.image.revision"] = vcs.Revision
	}
	if vcs.Source != "" {
		labels["org.opencontainers.image.source"] = vcs.Source
	}
	return labels
}

// imageEnv is the base's environment with pyship's variables and the app's [env] set.
func imageEnv(baseEnv []string, p *plan.Plan) []string {
	vals := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	for _, e := range baseEnv {
		k, v, _ := strings.Cut(e, "=")
		set(k, v)
	}
	path := vals["PATH"]
	if path == "" {
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	set("PATH", DepsPrefix+"/bin:"+path)
	pp := []string{AppDir}
	for _, d := range p.Run.PythonPath {
		if d = strings.Trim(d, "/"); d != "" && d != "." {
			pp = append(pp, AppDir+"/"+d)
		}
	}
	set("PYTHONPATH", strings.Join(append(pp, DepsPrefix), ":"))
	set("PYTHONUNBUFFERED", "1")
	set("PYTHONDONTWRITEBYTECODE", "1")
	set("HOME", "/tmp")
	if p.Run.Port > 0 {
		set("PORT", fmt.Sprint(p.Run.Port))
	}
	keys := make([]string, 0, len(p.Env))
	for k := range p.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		set(k, p.Env[k])
	}
	env := make([]string, 0, len(order))
	for _, k := range order {
		env = append(env, k+"="+vals[k])
	}
	return env
}

// command is the image's CMD. An argv that refers to $PORT runs through `/bin/sh -c exec ...` so
// that the port set at run time (-e PORT=...) is used; other commands run without a shell.
// A command that starts with python runs the base's interpreter (see withInterpreter).
func command(p *plan.Plan, info BaseInfo, o *Options) ([]string, error) {
	argv := p.Run.Command
	if len(argv) == 0 {
		return nil, fmt.Errorf("the plan of %s has no start command: set [run] command in pyship.toml", p.Dir)
	}
	argv = withInterpreter(argv, info.Python, info.MinorVersion())
	if !refersToEnv(argv) {
		return argv, nil
	}
	if !info.Shell {
		o.Progress.emit(Event{Step: "config", Warning: true, Message: "the base image has no /bin/sh: $PORT in the command is fixed to " + fmt.Sprint(p.Run.Port)})
		out := make([]string, len(argv))
		for i, a := range argv {
			out[i] = strings.NewReplacer("${PORT}", fmt.Sprint(p.Run.Port), "$PORT", fmt.Sprint(p.Run.Port)).Replace(a)
		}
		return out, nil
	}
	return []string{"/bin/sh", "-c", "exec " + shellJoin(argv)}, nil
}

func refersToEnv(argv []string) bool {
	for _, a := range argv {
		if strings.Contains(a, "$") {
			return true
		}
	}
	return false
}

// shellJoin quotes argv for sh, leaving $VAR and ${VAR} expandable (inside double quotes).
func shellJoin(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		switch {
		case a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@%+${}") == "":
			parts[i] = a
		case strings.Contains(a, "$"):
			parts[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`").Replace(a) + `"`
		default:
			parts[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(parts, " ")
}

// withInterpreter replaces a leading python, python3 or pythonX.Y (the image's X.Y) in argv with
// interpreter, the path of the base's Python: Debian-based images have no `python`, only
// python3, and the plan's command is written for any machine.
func withInterpreter(argv []string, interpreter, version string) []string {
	if len(argv) == 0 || interpreter == "" {
		return argv
	}
	switch argv[0] {
	case "python", "python3", "python" + version:
		return append([]string{interpreter}, argv[1:]...)
	}
	return argv
}

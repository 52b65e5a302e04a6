package plan

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Names of prometheus_client's multi-process mode under gunicorn, which the targets set up for
// a plan with Run.PrometheusMultiproc.
const (
	// MultiprocDirVar is where prometheus_client keeps each process's values (its own name).
	MultiprocDirVar = "PROMETHEUS_MULTIPROC_DIR"
	// GunicornArgsVar is gunicorn's variable of extra command-line arguments: pyship passes
	// its config file there, so the start command stays the user's.
	GunicornArgsVar = "GUNICORN_CMD_ARGS"
	// GunicornConfigName is the file name of the gunicorn config the targets write.
	GunicornConfigName = "pyship_gunicorn_conf.py"
)

// GunicornMultiprocConfig is the gunicorn config file of multi-process mode: the master clears
// the folder before it starts its workers (values of an earlier run would otherwise be summed
// into this one's), and marks each exited worker dead so its gauges leave the sums.
const GunicornMultiprocConfig = `# Written by pyship: prometheus_client's multi-process mode under gunicorn.
# https://prometheus.github.io/client_python/multiprocess/
import glob
import os


def on_starting(server):
    d = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(d, exist_ok=True)
    for f in glob.glob(os.path.join(d, "*.db")):
        os.remove(f)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
`

// multiproc turns on prometheus_client's multi-process mode for an app that depends on it and
// runs under gunicorn, unless the app configures gunicorn or the mode itself: then it warns,
// saying what to add, and leaves the app's configuration alone.
func (b *builder) multiproc() {
	r := &b.p.Run
	if len(r.Command) == 0 || (r.Server != "gunicorn" && filepath.Base(r.Command[0]) != "gunicorn") ||
		!slices.ContainsFunc(b.p.Dependencies.Requirements, func(q Requirement) bool { return q.Name == "prometheus-client" }) {
		return
	}
	const fix = "; pyship leaves multi-process mode to you: set PROMETHEUS_MULTIPROC_DIR to a folder emptied at each start, and add to your gunicorn config " +
		"`def child_exit(server, worker): prometheus_client.multiprocess.mark_process_dead(worker.pid)` (https://prometheus.github.io/client_python/multiprocess/)"
	_, err := os.Stat(filepath.Join(b.proj.Dir, "gunicorn.conf.py"))
	switch {
	case err == nil:
		b.warnf("gunicorn.conf.py: the app uses prometheus_client under gunicorn and has its own gunicorn config, which pyship does not override%s", fix)
	case slices.ContainsFunc(r.Command, func(a string) bool { return a == "-c" || a == "--config" || strings.HasPrefix(a, "--config=") }):
		b.warnf("the start command passes a gunicorn config (%s), which pyship does not override%s", r.Shell, fix)
	case b.p.Env[MultiprocDirVar] != "" || b.p.Env[GunicornArgsVar] != "":
		b.warnf("[env] sets %s or %s, so pyship does not set up prometheus_client's multi-process mode%s", MultiprocDirVar, GunicornArgsVar, fix)
	default:
		r.PrometheusMultiproc = true
		b.ev("run.prometheusMultiproc", Evidence{File: b.p.Dependencies.Source,
			Rule: "prometheus_client under gunicorn: pyship sets PROMETHEUS_MULTIPROC_DIR and the worker-exit hook"})
	}
}

// GunicornArgs is the value of GUNICORN_CMD_ARGS that makes gunicorn read the config file at
// path (gunicorn splits the variable as a shell would, so the path is quoted).
func GunicornArgs(path string) string {
	return "--config='" + strings.ReplaceAll(path, "'", `'"'"'`) + "'"
}

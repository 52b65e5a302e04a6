package agent

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/plan"
)

// multiprocEnv sets up prometheus_client's multi-process mode for replica id of the app (a
// plan with Run.PrometheusMultiproc): a folder of the replica under the app's run/ folder,
// which the gunicorn config written beside it empties whenever gunicorn starts, and the
// variables that point prometheus_client and gunicorn at them.
func (rt *app) multiprocEnv(id string) ([]string, error) {
	dir := rt.runDir(id)
	conf := filepath.Join(dir, plan.GunicornConfigName)
	if err := os.MkdirAll(filepath.Join(dir, "prometheus"), 0o755); err != nil {
		return nil, fmt.Errorf("making the prometheus_client folder of replica %s: %w", id, err)
	}
	if err := release.WriteAtomic(conf, []byte(plan.GunicornMultiprocConfig)); err != nil {
		return nil, fmt.Errorf("writing the gunicorn config of replica %s: %w", id, err)
	}
	return []string{plan.MultiprocDirVar + "=" + filepath.Join(dir, "prometheus"), plan.GunicornArgsVar + "=" + plan.GunicornArgs(conf)}, nil
}

// runDir is the folder of replica id's runtime files (prometheus_client's, the gunicorn config).
func (rt *app) runDir(id string) string { return filepath.Join(rt.a.paths().App(rt.name), "run", id) }

// forgetRun removes the runtime folder of replica id, which has stopped.
func (rt *app) forgetRun(id string) {
	if err := os.RemoveAll(rt.runDir(id)); err != nil {
		rt.log.Warn("removing the runtime folder of a stopped replica", "replica", id, "err", err)
	}
}

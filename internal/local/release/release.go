package release

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/clock"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/pybuild"
)

// Manifest describes a built release; it is stored as release.json in the release folder.
type Manifest struct {
	App     string    `json:"app"`
	ID      string    `json:"id"`
	Version string    `json:"version"`
	Created time.Time `json:"created"`
	// AppDir holds the app's files; Venv its dependencies.
	AppDir string `json:"appDir"`
	Venv   string `json:"venv"`
	Python string `json:"python"`
	// Env are the app's variables ([env] plus PYSHIP_*), never secrets.
	Env map[string]string `json:"env"`
	// SecretsFile is read each time a replica starts; its values never enter the manifest.
	SecretsFile string `json:"secretsFile,omitempty"`
	// DataDir is the app's persistent data root, outside every release.
	DataDir string    `json:"dataDir"`
	Plan    plan.Plan `json:"plan"`
}

// Paths lays out an app's files under the state root Home.
type Paths struct{ Home string }

// App is the folder of app.
func (p Paths) App(app string) string { return filepath.Join(p.Home, "apps", app) }

// Releases is the folder holding app's releases.
func (p Paths) Releases(app string) string { return filepath.Join(p.App(app), "releases") }

// Data is app's persistent data root.
func (p Paths) Data(app string) string { return filepath.Join(p.App(app), "data") }

// Logs is the folder of the logs of app's release.
func (p Paths) Logs(app, release string) string { return filepath.Join(p.App(app), "logs", release) }

// Venvs is the shared venv cache.
func (p Paths) Venvs() string { return filepath.Join(p.Home, "venvs") }

// Options adjust Build.
type Options struct {
	// Python is the interpreter ("" finds one matching the plan's version on PATH).
	Python string
	// Env is the environment of pip (PIP_* settings) and the PATH searched for Python.
	Env      []string
	Progress io.Writer
	// Clock stamps the release's creation (default the wall clock).
	Clock clock.Clock
}

// Build creates the next release of p under paths: copies the app files, installs the
// dependencies into a (shared) venv and links the persistent data folders.
func Build(ctx context.Context, paths Paths, p *plan.Plan, opts Options) (*Manifest, error) {
	if p.Name == "" {
		return nil, fmt.Errorf("the plan has no app name: set name in pyship.toml")
	}
	py := opts.Python
	if py == "" {
		var err error
		if py, _, err = pybuild.FindPython(ctx, p.Python.Version, opts.Env); err != nil {
			return nil, err
		}
	}
	files, err := pybuild.AppFiles(p.Dir, p.Build.Exclude)
	if err != nil {
		return nil, fmt.Errorf("listing the app files of %s: %w", p.Dir, err)
	}
	id, err := nextID(paths.Releases(p.Name))
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(paths.Releases(p.Name), id)
	appDir := filepath.Join(dir, "app")
	if err := copyFiles(p.Dir, appDir, files); err != nil {
		return nil, err
	}
	pip := pybuild.PipInputFor(p.Dependencies)
	pip.Dir = p.Dir // relative --find-links in the requirements are the project's
	venv, err := pybuild.EnsureVenv(ctx, py, paths.Venvs(), pip, pybuild.VenvOptions{Env: opts.Env, Progress: opts.Progress})
	if err != nil {
		return nil, err
	}
	data := paths.Data(p.Name)
	for _, d := range p.Data {
		if !d.Persistent {
			continue
		}
		if err := linkData(appDir, data, d.Path); err != nil {
			return nil, err
		}
	}
	m := &Manifest{App: p.Name, ID: id, Version: p.Version, Created: clock.Or(opts.Clock).Now().UTC(), AppDir: appDir, Venv: venv, Python: py,
		SecretsFile: p.SecretsFile, DataDir: data, Plan: *p, Env: map[string]string{}}
	for k, v := range p.Env {
		m.Env[k] = v
	}
	m.Env["PYSHIP_APP"], m.Env["PYSHIP_VERSION"], m.Env["PYSHIP_RELEASE"], m.Env["PYSHIP_DATA_DIR"] = p.Name, p.Version, id, data
	if p.Config != nil {
		m.Env["PYSHIP_CONFIG_DIR"] = filepath.Join(appDir, p.Config.Path)
	}
	if err := writeJSON(filepath.Join(dir, "release.json"), m); err != nil {
		return nil, err
	}
	return m, nil
}

// Load reads the manifest of release id of app.
func Load(paths Paths, app, id string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(paths.Releases(app), id, "release.json"))
	if err != nil {
		return nil, fmt.Errorf("reading release %s of %s: %w", id, app, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("reading release %s of %s: %w", id, app, err)
	}
	return &m, nil
}

// List returns the release ids of app, oldest first.
func List(paths Paths, app string) []string {
	ents, _ := os.ReadDir(paths.Releases(app))
	var ids []string
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(paths.Releases(app), e.Name(), "release.json")); err == nil {
			ids = append(ids, e.Name())
		}
	}
	sort.Slice(ids, func(i, j int) bool { return seq(ids[i]) < seq(ids[j]) })
	return ids
}

// Prune removes the releases of app that Prunable does not keep, with their logs.
func Prune(paths Paths, app string, keep int, inUse map[string]bool) {
	ids := List(paths, app)
	for _, id := range Prunable(ids, Promotions(paths, app, ids), keep, inUse) {
		_ = os.RemoveAll(filepath.Join(paths.Releases(app), id))
		_ = os.RemoveAll(paths.Logs(app, id))
	}
}

// Prunable returns the releases of ids (oldest first) to remove so that the newest keep
// promoted releases stay for rollback. Releases that were never promoted (failed or
// interrupted deploys) do not count against keep: they stay while they are among the newest
// keep releases, for their logs, and go after that. Releases in use always stay.
func Prunable(ids []string, promoted map[string]bool, keep int, inUse map[string]bool) []string {
	var out []string
	good := 0
	for i := len(ids) - 1; i >= 0; i-- {
		id := ids[i]
		recent := len(ids)-i <= keep
		switch {
		case promoted[id]:
			good++
			if good > keep && !inUse[id] {
				out = append(out, id)
			}
		case !recent && !inUse[id]:
			out = append(out, id)
		}
	}
	slices.Reverse(out)
	return out
}

// RollbackTarget is the release a plain rollback returns to: the newest release older than
// stable (in ids, oldest first) that was once promoted. A release whose deploy failed or was
// interrupted never was, so a rollback cannot land on it. It returns "" when there is none.
func RollbackTarget(ids []string, promoted map[string]bool, stable string) string {
	i := slices.Index(ids, stable)
	for i--; i >= 0; i-- {
		if promoted[ids[i]] {
			return ids[i]
		}
	}
	return ""
}

const promotedMarker = "promoted"

// MarkPromoted records that release id of app was promoted: it served all traffic as the
// stable release after a successful deploy or rollback.
func MarkPromoted(paths Paths, app, id string) error {
	return WriteAtomic(filepath.Join(paths.Releases(app), id, promotedMarker), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"))
}

// Promotions tells which of app's releases ids were ever promoted (MarkPromoted).
func Promotions(paths Paths, app string, ids []string) map[string]bool {
	out := map[string]bool{}
	for _, id := range ids {
		if _, err := os.Stat(filepath.Join(paths.Releases(app), id, promotedMarker)); err == nil {
			out[id] = true
		}
	}
	return out
}

func seq(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "r"))
	return n
}

func nextID(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	n := 0
	for _, e := range ents {
		n = max(n, seq(e.Name()))
	}
	for {
		n++
		id := "r" + strconv.Itoa(n)
		if err := os.Mkdir(filepath.Join(dir, id), 0o755); err == nil {
			return id, nil
		} else if !os.IsExist(err) {
			return "", fmt.Errorf("creating release folder: %w", err)
		}
	}
}

// CheckRollback says whether app may roll back to target: it must be one of ids (oldest
// first), not the stable release, and, unless force, a release that was promoted once (a
// release whose deploy failed or was aborted never served all traffic, and serving it now
// would repeat the failure). The error lists the releases there are.
func CheckRollback(app string, ids []string, promoted map[string]bool, stable, target string, force bool) error {
	describe := func() string {
		var parts []string
		for _, id := range ids {
			switch {
			case id == stable:
				parts = append(parts, id+" (stable)")
			case promoted[id]:
				parts = append(parts, id)
			default:
				parts = append(parts, id+" (never promoted)")
			}
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, ", ")
	}
	switch {
	case !slices.Contains(ids, target):
		return fmt.Errorf("%s has no release %s; its releases are: %s", app, target, describe())
	case target == stable:
		return fmt.Errorf("%s is already the stable release of %s; its releases are: %s", target, app, describe())
	case !promoted[target] && !force:
		return fmt.Errorf("release %s of %s was never promoted (its deploy failed or was aborted), so rolling back to it would serve a release that never passed its rollout; pass --force to roll back to it anyway", target, app)
	}
	return nil
}

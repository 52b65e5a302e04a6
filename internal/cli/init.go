package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"github.com/google/renameio/v2"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/spec"
	"github.com/spf13/cobra"
)

type initOptions struct {
	force bool
	print bool
}

func newInitCmd(s *streams) *cobra.Command {
	o := &initOptions{}
	c := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Write pyship.toml with what pyship detects in the project",
		Long: `Init detects the app in DIR (default: the current folder) and writes DIR/pyship.toml holding
each detected value with a comment saying where it came from; defaults are written commented out,
ready to change. It refuses to overwrite an existing spec unless --force is given.`,
		Example: `  pyship init
  pyship init --print examples/fastapi`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := dirArg(args)
			target := filepath.Join(dir, "pyship.toml")
			if !o.print {
				if err := refuseExistingSpec(dir, o.force); err != nil {
					return err
				}
			}
			// init detects afresh: an existing (perhaps broken) spec is not read.
			p, err := plan.Resolve(cmd.Context(), dir, plan.Options{NoSpec: true})
			if err != nil {
				return err
			}
			b, err := spec.Render(initEntries(p))
			if err != nil {
				return err
			}
			// The written spec pins what was detected, so warnings about it would not show again.
			for _, w := range p.Warnings {
				fmt.Fprintf(s.Err, "warning: %s\n", w)
			}
			if o.print {
				_, err = s.Out.Write(b)
				return err
			}
			if err := writeFileAtomic(target, b, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(s.Err, "wrote %s: review it, then run 'pyship plan --explain'\n", target)
			fmt.Fprintln(s.Out, target)
			return nil
		},
	}
	c.Flags().BoolVar(&o.force, "force", false, "overwrite an existing pyship.toml")
	c.Flags().BoolVar(&o.print, "print", false, "print the spec on stdout instead of writing it")
	return c
}

// toolPyship finds a [tool.pyship] (or [tool.pyship.X]) table header.
var toolPyship = regexp.MustCompile(`(?m)^[ \t]*\[[ \t]*tool\.pyship[ \t]*[\].]`)

// refuseExistingSpec stops init from replacing a spec by accident.
func refuseExistingSpec(dir string, force bool) error {
	if _, err := os.Stat(filepath.Join(dir, "pyship.toml")); err == nil && !force {
		return usageError{fmt.Errorf("%s already declares the app; edit it, or run 'pyship init --force' to replace it with a freshly detected one", filepath.Join(dir, "pyship.toml"))}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "pyproject.toml")); err == nil && toolPyship.Match(b) {
		return usageError{fmt.Errorf("%s has a [tool.pyship] table: keep the spec there (edit it) or remove that table first; a project cannot have both it and pyship.toml", filepath.Join(dir, "pyproject.toml"))}
	}
	return nil
}

// initEntries turns a plan into spec entries: detected values are set, defaults are suggestions.
func initEntries(p *plan.Plan) []spec.Entry {
	var es []spec.Entry
	add := func(path string, value any, evidenceKey string) {
		ev, ok := p.Evidence[evidenceKey]
		e := spec.Entry{Path: path, Value: value}
		switch {
		case !ok || ev.Rule == "default":
			e.Commented = true
			e.Comment = "default"
		case ev.File != "" && ev.Line > 0:
			e.Comment = fmt.Sprintf("detected from %s:%d (%s)", ev.File, ev.Line, ev.Rule)
		case ev.File != "":
			e.Comment = fmt.Sprintf("detected from %s (%s)", ev.File, ev.Rule)
		default:
			e.Comment = "detected: " + ev.Rule
		}
		es = append(es, e)
	}
	add("name", p.Name, "name")
	es = append(es, versionEntry(p))
	add("build.python", p.Python.Version, "python.version")
	add("build.base", p.Build.Base, "build.base")
	add("run.command", p.Run.Shell, "run.command")
	if p.Run.WorkersArg > 0 {
		// pyship builds this command from the server, the app and [run] workers at every
		// plan: written out, it would pin --workers and ignore a later workers = N.
		e := &es[len(es)-1]
		e.Commented = true
		e.Comment += "; pyship builds it from the server, the app and [run] workers: uncomment to take it over"
	}
	add("run.kind", p.Run.Kind, "run.kind")
	if p.Run.Kind == "web" {
		add("run.port", p.Run.Port, "run.port")
	}
	add("run.workers", p.Run.Workers, "run.workers")
	add("health.type", p.Health.Type, "health.type")
	if p.Health.Path != "" {
		add("health.path", p.Health.Path, "health.path")
	}
	add("health.interval", p.Health.Interval, "health.interval")
	add("health.timeout", p.Health.Timeout, "health.timeout")
	add("deploy.target", p.Deploy.Target, "deploy.target")
	add("deploy.strategy", string(p.Deploy.Strategy), "deploy.strategy")
	add("deploy.replicas", p.Deploy.Replicas, "deploy.replicas")
	if p.Config != nil {
		add("config.dir", p.Config.Path, "config")
	}
	var persistent, static []string
	for _, d := range p.Data {
		if d.Persistent {
			persistent = append(persistent, d.Path)
		} else {
			static = append(static, d.Path)
		}
	}
	if len(persistent) > 0 {
		add("data.persistent", persistent, "data")
	}
	if len(static) > 0 {
		add("data.static", static, "data")
	}
	return es
}

// versionEntry suggests a version. Only a version read from a file is written as a value: one from
// git describe or the content hash changes with the next commit or edit (writing pyship.toml
// itself changes the hash), so a value there would be stale at once.
func versionEntry(p *plan.Plan) spec.Entry {
	const how = "the version is inferred at every build (git describe --tags, the pyproject version, else a content hash of the files)"
	if ev := p.Evidence["version"]; ev.File != "" {
		return spec.Entry{Path: "version", Value: p.Version, Commented: true,
			Comment: fmt.Sprintf("%s; now %s:%d (%s); set it to pin one", how, ev.File, ev.Line, ev.Rule)}
	}
	return spec.Entry{Comment: how + `; set version = "1.0.0" to pin one`}
}

// writeFileAtomic writes b to path with mode through a synced temporary file and a rename
// (renameio).
func writeFileAtomic(path string, b []byte, mode fs.FileMode) error {
	if err := renameio.WriteFile(path, b, mode); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

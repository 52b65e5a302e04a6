package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform"
	"github.com/spf13/pflag"
)

// changeFlags are `plan`'s inputs for a change: --out saves it, and --detailed-exitcode says
// whether there is one.
type changeFlags struct {
	out      string
	detailed bool
	python   string
	at       changeTarget
}

func (f *changeFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.out, "out", "", "save the change (on Kubernetes: spec, images, rendered objects, diff, live state's fingerprint; locally: the release built) to `FILE`, for pyship apply FILE")
	fs.BoolVar(&f.detailed, "detailed-exitcode", false, "diff against the target and exit 0 with no changes, 2 with changes, 1 on an error")
	fs.StringVar(&f.at.render.Image, "image", "", "with --out on Kubernetes: the app image by digest, REPO@sha256:...")
	fs.StringVar(&f.at.target, "target", "", "with --out: local or kubernetes (default: kubernetes with a cluster flag, else [deploy] target)")
	fs.StringVar(&f.python, "python", "", "with --out on the local target: the Python the release is built for (default: the plan's version on PATH)")
	fs.StringVar(&f.at.home, "home", "", "with --out on the local target: pyship's state folder (default $PYSHIP_HOME or ~/.local/share/pyship)")
	addRenderOptions(fs, &f.at.render)
	f.at.cluster.add(fs)
}

func (f *changeFlags) wanted() bool { return f.out != "" || f.detailed }

// run works out the change of p on its target, prints it, saves it with --out and returns
// whether anything would change.
func (f *changeFlags) run(ctx context.Context, s *streams, p *plan.Plan, env string) (bool, error) {
	t, err := f.at.open(ctx, s, p)
	if err != nil {
		return false, err
	}
	sp, err := t.Plan(ctx, p, platform.PlanOptions{Progress: s.Err, Python: f.python, Save: f.out != ""})
	if err != nil {
		return false, syntaxErrors(s, err)
	}
	printChange(s, sp)
	if f.out == "" {
		return sp.Changed(), nil
	}
	sp.Env, sp.Context = env, f.at.cluster.opts.Context
	if err := gitops.WritePlan(f.out, sp); err != nil {
		return false, err
	}
	fmt.Fprintf(s.Err, "saved the plan to %s; apply exactly this with `pyship apply %s`\n", f.out, f.out)
	return sp.Changed(), nil
}

// printChange prints what the saved plan would change on stdout and a summary on stderr.
func printChange(s *streams, sp *gitops.SavedPlan) {
	switch {
	case sp.Target != string(platform.Local):
		printDiffs(s, sp.Diff)
	case sp.Changed():
		fmt.Fprintf(s.Out, "=== %s on this machine: release %s (%s) replaces %s\n", sp.App, sp.Release, sp.Plan.Version, cmp.Or(sp.Stable, "nothing deployed"))
		fmt.Fprintln(s.Err, "1 release would change")
	default:
		fmt.Fprintln(s.Err, "no changes")
	}
}

// printDiffs prints each object's diff on stdout and a summary on stderr.
func printDiffs(s *streams, diffs []kube.ObjectDiff) {
	for _, d := range diffs {
		fmt.Fprintf(s.Out, "=== %s %s/%s\n%s", d.Action, d.Kind, d.Name, d.Text)
	}
	if len(diffs) > 0 {
		fmt.Fprintf(s.Err, "%d object(s) would change\n", len(diffs))
	} else {
		fmt.Fprintln(s.Err, "no changes")
	}
}

// detailedExit maps a command's outcome to --detailed-exitcode's: 0 no changes, 2 changes,
// 1 any error (usage errors too; an error already reported keeps its status).
func detailedExit(changed bool, err error) error {
	var reported exitError
	switch {
	case errors.As(err, &reported):
		return err
	case err != nil:
		return failureError{err}
	case changed:
		return exitError{2}
	}
	return nil
}

package cli

import (
	"context"
	"fmt"

	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/version"
	"github.com/spf13/pflag"
)

// changeFlags are `plan`'s inputs for a change on Kubernetes: --out saves it, and
// --detailed-exitcode says whether there is one.
type changeFlags struct {
	out      string
	detailed bool
	image    string
	target   string
	python   string
	local    localOptions
	render   kube.Options
	cluster  clusterFlags
}

func (f *changeFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.out, "out", "", "save the change on Kubernetes (spec, image, rendered objects, diff, live state's fingerprint) to `FILE`, for pyship apply FILE")
	fs.BoolVar(&f.detailed, "detailed-exitcode", false, "diff against the cluster and exit 0 with no changes, 2 with changes, 1 on an error")
	fs.StringVar(&f.image, "image", "", "with --out on Kubernetes: the app image by digest, REPO@sha256:...")
	fs.StringVar(&f.target, "target", "", "with --out: local or kubernetes (default [deploy] target)")
	fs.StringVar(&f.python, "python", "", "with --out on the local target: the Python the release is built for (default: the plan's version on PATH)")
	fs.StringVar(&f.local.home, "home", "", "with --out on the local target: pyship's state folder (default $PYSHIP_HOME or ~/.local/share/pyship)")
	addRenderOptions(fs, &f.render)
	f.cluster.add(fs)
}

func (f *changeFlags) wanted() bool { return f.out != "" || f.detailed }

// run renders p, diffs it against the cluster, prints the diff, saves it with --out and
// returns whether anything would change.
func (f *changeFlags) run(ctx context.Context, s *streams, p *plan.Plan, env string) (bool, error) {
	target, err := deployTarget(f.target, p)
	if err != nil {
		return false, err
	}
	if target == "local" {
		return f.runLocal(ctx, s, p, env)
	}
	if f.image == "" {
		return false, usageError{fmt.Errorf("--out and --detailed-exitcode diff the rendered objects against the cluster: pass --image REPO@sha256:... (`pyship build --push` prints it)")}
	}
	c, err := f.cluster.connect(ctx, s, p)
	if err != nil {
		return false, err
	}
	rf := renderFlags{opts: f.render}
	rf.opts.Image = f.image
	b, err := rf.bundle(s, p, c.Namespace)
	if err != nil {
		return false, err
	}
	live, err := gitops.Fingerprint(ctx, c, b)
	if err != nil {
		return false, err
	}
	diffs, err := c.Diff(ctx, b, false)
	if err != nil {
		return false, err
	}
	printDiffs(s, diffs)
	if f.out == "" {
		return len(diffs) > 0, nil
	}
	sp := &gitops.SavedPlan{Pyship: version.String(), App: p.Name, Env: env, Target: "kubernetes", Context: f.cluster.opts.Context,
		Namespace: c.Namespace, Image: f.image, Plan: p, Bundle: b, Diff: diffs, Live: live}
	if err := gitops.WritePlan(f.out, sp); err != nil {
		return false, err
	}
	fmt.Fprintf(s.Err, "saved the plan to %s; apply exactly this with `pyship apply %s`\n", f.out, f.out)
	return len(diffs) > 0, nil
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
// 1 any error (usage errors too).
func detailedExit(changed bool, err error) error {
	switch {
	case err != nil:
		return failureError{err}
	case changed:
		return exitError{2}
	}
	return nil
}

package plan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pyship/pyship/internal/detect"
	"github.com/pyship/pyship/internal/rollout"
	"github.com/pyship/pyship/internal/spec"
)

// Options adjust a resolution.
type Options struct {
	// Env selects the [env.NAME] overlay of the spec ("" for none).
	Env string
	// NoSpec ignores the project's spec and resolves from detection alone (pyship init --force).
	NoSpec bool
	// Strategy and Target are the deploy flags --strategy and --target: each is resolved as
	// the spec key it stands for ([deploy] strategy, target), so the rest of the spec applies
	// as it would to the key (--strategy canary keeps the spec's [deploy.canary] table).
	Strategy, Target string
}

// Resolve loads the spec of the project in dir, detects what the spec leaves open and returns
// the resolved Plan with evidence for every value.
func Resolve(ctx context.Context, dir string, opts Options) (*Plan, error) {
	p, problem, err := ResolvePartial(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	if problem != nil {
		return nil, problem
	}
	return p, nil
}

// ResolvePartial resolves what it can of the app in dir whatever detection says, for checks that
// need the app's files and Python version but not how it starts (pyship check). err is for a
// spec that does not load. problem is the detection error that Resolve would return: the start
// command could not be decided (p.Run is then empty), or the project could not be analysed at all
// (p then holds only what the spec says, with the default Python).
func ResolvePartial(ctx context.Context, dir string, opts Options) (p *Plan, problem, err error) {
	if err := CheckProjectDir(dir); err != nil {
		return nil, nil, err
	}
	sp := &spec.Spec{Env: map[string]string{}, Positions: map[string]spec.Pos{}}
	if !opts.NoSpec {
		if sp, err = spec.Load(dir, opts.Env); err != nil {
			return nil, nil, err
		}
	}
	flags := map[string]string{}
	if opts.Strategy != "" {
		sp.Deploy.Strategy, flags["deploy.strategy"] = opts.Strategy, "--strategy"
	}
	if opts.Target != "" {
		sp.Deploy.Target, flags["deploy.target"] = opts.Target, "--target"
	}
	proj, problem := detect.Analyze(ctx, dir)
	if problem != nil {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, nil, problem
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return nil, nil, problem
		}
		proj = &detect.Project{Dir: abs}
	}
	p, runErr, err := assemble(sp, proj)
	if err != nil {
		return nil, nil, err
	}
	for key, flag := range flags {
		p.Evidence[key] = Evidence{Rule: "flag " + flag + " (overrides the spec)"}
	}
	if problem == nil {
		problem = runErr
	}
	return p, problem, nil
}

// ProjectDirError is a project folder that does not exist or is not a folder: the same
// mistake whichever verb was given it, so every verb says it the same way.
type ProjectDirError struct {
	Dir    string
	NotDir bool  // Dir is a file
	Err    error // why it could not be read, when it is not missing
}

func (e *ProjectDirError) Error() string {
	switch {
	case e.NotDir:
		return fmt.Sprintf("%s is a file, not a project folder: pass the folder that holds the project (%s), or run pyship there with no DIR", e.Dir, filepath.Dir(e.Dir))
	case errors.Is(e.Err, fs.ErrNotExist):
		return fmt.Sprintf("project folder %s does not exist: pass the folder of a Python project as DIR, or run pyship in it with no DIR", e.Dir)
	default:
		return fmt.Sprintf("reading project folder %s: %v", e.Dir, e.Err)
	}
}

func (e *ProjectDirError) Unwrap() error { return e.Err }

// CheckProjectDir returns a *ProjectDirError when dir is not a readable folder.
func CheckProjectDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return &ProjectDirError{Dir: dir, Err: err}
	case !st.IsDir():
		return &ProjectDirError{Dir: dir, NotDir: true}
	}
	return nil
}

// Override applies the deploy flags of o to a plan that was resolved before (a plan
// document): the strategy and target, with a canary that keeps the plan's canary settings, or
// gets the defaults when the plan had none.
func (p *Plan) Override(o Options) {
	if p.Evidence == nil {
		p.Evidence = map[string]Evidence{}
	}
	if o.Strategy != "" && rollout.Strategy(o.Strategy) != p.Deploy.Strategy {
		p.Deploy.Strategy = rollout.Strategy(o.Strategy)
		if o.Strategy == "canary" && p.Deploy.Canary == nil {
			c := DefaultCanary()
			p.Deploy.Canary = &c
		}
		p.Evidence["deploy.strategy"] = Evidence{Rule: "flag --strategy (overrides the plan)"}
	}
	if o.Target != "" && o.Target != p.Deploy.Target {
		p.Deploy.Target = o.Target
		p.Evidence["deploy.target"] = Evidence{Rule: "flag --target (overrides the plan)"}
	}
}

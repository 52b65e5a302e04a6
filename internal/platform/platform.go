package platform

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/rollout"
)

// Platform is what a verb can do to a deployed app. Each target implements it once; the CLI
// chooses the implementation in one place and its verbs only fill options and call it.
//
// Interrupts follow one rule on every target (see Interrupts): the first Ctrl-C during a
// deploy or rollback aborts it, so the live release keeps (or gets back) all traffic, and
// the command goes on showing the rollback; a second Ctrl-C stops waiting and leaves the rest
// to the target (the agent, the cluster). The CLI then exits 130.
type Platform interface {
	// Deploy rolls the plan's release out with its strategy. A rollout that ran returns its
	// Result, with Failed set when it was rolled back; an error means it could not run.
	Deploy(ctx context.Context, p *plan.Plan, o DeployOptions) (*Result, error)
	// Status is the app's releases, replicas and rollout in progress ("" app: every app the
	// target knows, where it can list them).
	Status(ctx context.Context, app string) ([]AppStatus, error)
	// Logs copies the app's logs to w.
	Logs(ctx context.Context, app string, w io.Writer, o LogsOptions) error
	// Rollback serves an earlier release again (and its data, when asked).
	Rollback(ctx context.Context, app string, o RollbackOptions) (*Result, error)
	// Promote, Abort, Stop and Destroy act on the app and say what happened.
	Promote(ctx context.Context, app string) (string, error)
	Abort(ctx context.Context, app string) (string, error)
	Stop(ctx context.Context, app string) (string, error)
	Destroy(ctx context.Context, app string) (string, error)
}

// Target names an implementation of Platform.
type Target string

// The targets.
const (
	Local      Target = "local"
	Kubernetes Target = "kubernetes"
)

// ParseTarget checks a --target or [deploy] target value ("" is local).
func ParseTarget(s string) (Target, error) {
	switch t := Target(s); t {
	case "":
		return Local, nil
	case Local, Kubernetes:
		return t, nil
	}
	return "", Invalid(fmt.Errorf("--target %q: want local or kubernetes", s))
}

// Interrupts is how a deploy or rollback learns of Ctrl-C: On registers what the first one
// does (abort) until clear is called; a second one cancels the command's context.
type Interrupts interface {
	On(first func()) (clear func())
}

// DeployOptions are what a deploy needs beyond the plan.
type DeployOptions struct {
	// Progress receives progress lines (stderr in the CLI); nil discards them.
	Progress io.Writer
	// Events, when set, receives the rollout's own events (the local agent's), which the
	// CLI shows once each with how long the current step has waited; else they go to
	// Progress as lines.
	Events func(Event)
	// Interrupts, when set, gets the deploy's abort for the first Ctrl-C.
	Interrupts Interrupts
	// Python is the interpreter: the release's on the local target, the build host's (with
	// pip) for an image.
	Python string
	// Verbose shows pip's output.
	Verbose bool
}

// PlanOptions are what working out a change (`plan --out`, --detailed-exitcode) needs beyond
// the plan. Each target plans, applies a saved plan and finds drift in its own package
// (localtarget, kubetarget: Plan, Apply, Drift), with the saved plan of internal/gitops.
type PlanOptions struct {
	// Progress receives progress lines; nil discards them.
	Progress io.Writer
	// Python is the interpreter the local release is built for.
	Python string
	// Save: the change is saved to be applied later, so what it needs outside the target is
	// made ready now (on Kubernetes, pyship's agent image pushed beside the app image).
	// Without it, planning changes nothing anywhere.
	Save bool
}

// LogsOptions choose the logs.
type LogsOptions struct {
	Release string
	Follow  bool
}

// RollbackOptions say where to roll back to.
type RollbackOptions struct {
	// Release is the release to serve ("" the last good one before the stable release).
	Release string
	// Force rolls back to a release whose deploy failed or was aborted.
	Force bool
	// WithData restores the backup the deploy that replaced Release took first.
	WithData bool
	// IdentityFile (local) and IdentitySecret (Kubernetes) hold the backups' age identity.
	IdentityFile, IdentitySecret string
	Progress                     io.Writer
	Events                       func(Event)
	Interrupts                   Interrupts
}

// Result is what a deploy or rollback came to: `--output json` prints it.
type Result struct {
	App       string `json:"app"`
	Target    Target `json:"target"`
	Namespace string `json:"namespace,omitempty"`
	Release   string `json:"release"`
	// Image is the image deployed (Kubernetes).
	Image    string           `json:"image,omitempty"`
	Strategy rollout.Strategy `json:"strategy,omitempty"`
	// URL is where the app answers ("" for a worker).
	URL string `json:"url,omitempty"`
	// Phase is how the rollout ended: succeeded or rolled-back; Held, a canary that waits
	// for traffic or a decision (promote, abort).
	Phase rollout.Phase `json:"phase"`
	Held  bool          `json:"held,omitempty"`
	// Active is the release serving after it; Failed, the release that failed ("" for none).
	Active string `json:"active,omitempty"`
	Failed string `json:"failed,omitempty"`
	// Message says why it failed, or where it stands.
	Message string `json:"message,omitempty"`
	// Duration is how long it took.
	Duration Duration `json:"duration"`
}

// Failed is the Phase of a rollout that did not finish and left nothing to roll back to (a
// first release, or one that could not be applied).
const Failed rollout.Phase = "failed"

// OK reports whether the rollout did what was asked (a held canary is not a failure).
func (r *Result) OK() bool { return r.Phase == rollout.Succeeded || r.Held }

// InputError marks an error caused by the user's input (flags, arguments, spec): the CLI
// exits 2 for it.
type InputError struct{ Err error }

func (e InputError) Error() string { return e.Err.Error() }
func (e InputError) Unwrap() error { return e.Err }

// Invalid marks err as the user's input's fault.
func Invalid(err error) error { return InputError{err} }

// ErrUnsupported is wrapped by the errors of verbs a target has no way to do.
var ErrUnsupported = errors.New("not available on this target")

// Event is a line of a rollout's progress, as a target reports it.
type Event struct {
	Message string
	// Warning is set instead of Message for a warning.
	Warning string
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/pybuild"
	"github.com/spf13/cobra"
)

// Exit codes that scripts can rely on.
const (
	ExitOK      = 0
	ExitFailure = 1 // the command ran and found a problem (syntax errors, a failed rollout, a diff)
	ExitUsage   = 2 // bad flags, arguments or spec
)

// usageError marks errors caused by the user's input (flags, arguments, spec): exit code 2,
// as platform.InputError does for the errors of the workflows.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// failureError exits 1 whatever err is (--detailed-exitcode keeps 2 for "there are changes").
type failureError struct{ err error }

func (e failureError) Error() string { return e.err.Error() }
func (e failureError) Unwrap() error { return e.err }

// exitError carries an exit code for a failure that was already reported (on stderr, and on
// stdout with --output json: a failed rollout's Result, check's report).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// reportedError is a failure already reported on stderr that put no result on stdout: with
// --output json, stdout gets the error object saying msg.
type reportedError struct {
	code int
	msg  string
}

func (e reportedError) Error() string { return e.msg }

// streams are the command's standard streams: results on Out, progress and errors on Err.
type streams struct {
	In       io.Reader
	Out, Err io.Writer
	// intr is Ctrl-C as the verb means it (nil: none comes, as in tests).
	intr *interrupts
	// env is the command's environment, KEY=VALUE as os.Environ gives it: the process's in
	// cmd/pyship, a test's own in tests. Verbs read it with getenv and hand environ to what
	// they run; nothing below the CLI reads the process environment for them.
	env []string
	// signalStops: the command is a server that a signal stops cleanly (the sidecar, which
	// Kubernetes stops with SIGTERM): its own exit status stands instead of 130.
	signalStops bool
}

// getenv is the value of k in the command's environment ("" when unset; the last of a
// repeated key wins, as in a child process).
func (s *streams) getenv(k string) string { return pybuild.Getenv(s.env, k) }

// environ is the command's environment, for libraries' Env options and child processes.
func (s *streams) environ() []string { return s.env }

// Main runs pyship with args in the environment env (KEY=VALUE) and returns the process exit
// code. ctx ending ends the command.
func Main(ctx context.Context, args, env []string, in io.Reader, out, errw io.Writer) int {
	return runStreams(ctx, args, &streams{In: in, Out: out, Err: errw, env: env})
}

func runStreams(ctx context.Context, args []string, s *streams) int {
	in, out, errw := s.In, s.Out, s.Err
	root := newRootCmd(s)
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errw)
	c, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var ee exitError
	if errors.As(err, &ee) { // reported already
		return ee.code
	}
	var fe failureError
	failure := errors.As(err, &fe) // a failure that wraps a usage error stays a failure (exit 1)
	var re reportedError
	if errors.As(err, &re) {
		if failure {
			re.code = ExitFailure
		}
		writeJSONError(c, out, re.msg, re.code)
		return re.code
	}
	code := ExitFailure
	var ue usageError
	var ie platform.InputError
	var pde *plan.ProjectDirError
	switch {
	case errors.As(err, &pde): // the same words from every verb, however it was wrapped
		err = pde
		if !failure {
			code = ExitUsage
		}
	case failure:
	case errors.As(err, &ue) || errors.As(err, &ie) || isFlagError(err):
		code = ExitUsage
	}
	fmt.Fprintf(errw, "pyship: %v\n", err)
	writeJSONError(c, out, err.Error(), code)
	return code
}

// writeJSONError writes the error object on out when command c was asked for --output json:
// a script reading stdout gets a JSON document whatever happened.
func writeJSONError(c *cobra.Command, out io.Writer, msg string, code int) {
	if c == nil {
		return
	}
	if f := c.Flags().Lookup("output"); f != nil && f.Value.String() == "json" {
		_ = writeJSON(out, jsonError{Error: msg, ExitCode: code})
	}
}

// jsonError is what --output json prints on stdout when a command fails before its result.
type jsonError struct {
	Error    string `json:"error"`
	ExitCode int    `json:"exitCode"`
}

func newRootCmd(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "pyship",
		Short: "Ship a Python service from its source folder to production",
		Long: `pyship takes a Python service from its source folder to a running, monitored,
backed-up production service: detect, check, build an OCI image, push, deploy and roll out.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath())}
	})
	root.AddCommand(
		newInitCmd(s),
		newPlanCmd(s),
		newCheckCmd(s),
		newSchemaCmd(s),
		newVersionCmd(s),
		newDeployCmd(s), newStatusCmd(s), newLogsCmd(s), newRollbackCmd(s), newPromoteCmd(s), newAbortCmd(s), newStopCmd(s), newDestroyCmd(s), newAgentCmd(s),
		newRenderCmd(s),
		newDiffCmd(s),
		newGitOpsCmd(s),
		newApplyCmd(s),
		newDriftCmd(s),
		newBuildCmd(s),
		newDockerfileCmd(s),
		newSBOMCmd(s),
		newRegistryCmd(s),
		newBackupCmd(s),
		newMonitorCmd(s),
	)
	registerCompletions(root)
	return root
}

func isFlagError(err error) bool {
	// cobra reports unknown commands and argument-count errors as plain errors.
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

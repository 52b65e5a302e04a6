package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes that scripts can rely on.
const (
	ExitOK      = 0
	ExitFailure = 1 // the command ran and found a problem (syntax errors, a failed rollout, a diff)
	ExitUsage   = 2 // bad flags, arguments or spec
)

// usageError marks errors caused by the user's input (flags, arguments, spec): exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// failureError exits 1 whatever err is (--detailed-exitcode keeps 2 for "there are changes").
type failureError struct{ err error }

func (e failureError) Error() string { return e.err.Error() }

// exitError carries an exit code for a failure that was already reported.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// streams are the command's standard streams: results on Out, progress and errors on Err.
type streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// Main runs pyship with args and returns the process exit code.
func Main(ctx context.Context, args []string, in io.Reader, out, errw io.Writer) int {
	s := &streams{In: in, Out: out, Err: errw}
	root := newRootCmd(s)
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errw)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintf(errw, "pyship: %v\n", err)
	var fe failureError
	if errors.As(err, &fe) {
		return ExitFailure
	}
	var ue usageError
	if errors.As(err, &ue) || isFlagError(err) {
		return ExitUsage
	}
	return ExitFailure
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

package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pyship/pyship/internal/platform"
	"github.com/spf13/cobra"
)

// localOptions are the flags every command of the local target shares.
type localOptions struct {
	home string
	app  string
}

func (o *localOptions) addFlags(cmd *cobra.Command, withApp bool) {
	cmd.Flags().StringVar(&o.home, "home", "", "pyship's state folder (default $PYSHIP_HOME or ~/.local/share/pyship)")
	if withApp {
		cmd.Flags().StringVar(&o.app, "app", "", "the app to act on (default: the project in the current folder, else the only app deployed)")
	}
}

// resolveHome fills o.home from the flag, $PYSHIP_HOME or the default.
func (o *localOptions) resolveHome() error {
	if o.home == "" {
		o.home = os.Getenv("PYSHIP_HOME")
	}
	if o.home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return usageError{fmt.Errorf("cannot find the home folder for pyship's state: set PYSHIP_HOME or --home")}
		}
		o.home = filepath.Join(h, ".local", "share", "pyship")
	}
	abs, err := filepath.Abs(o.home)
	if err != nil {
		return err
	}
	o.home = abs
	return nil
}

// newActionCmd is a command that has the app's platform act on it and prints what happened.
func newActionCmd(s *streams, verb, short, long string, act func(platform.Platform, context.Context, string) (string, error)) *cobra.Command {
	var f appFlags
	cmd := &cobra.Command{
		Use:   verb,
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			plat, app, err := f.open(cmd.Context(), s, false)
			if err != nil {
				return err
			}
			msg, err := act(plat, cmd.Context(), app)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(s.Out, msg)
			return err
		},
	}
	f.add(cmd)
	if verb == "abort" { // on Kubernetes it moves traffic back: applies the Service or HTTPRoute
		addForceConflicts(cmd.Flags(), &f.force)
	}
	return cmd
}

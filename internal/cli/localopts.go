package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/pyship/pyship/internal/local/agent"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/platform/localtarget"
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
		cmd.Flags().StringVar(&o.app, "app", "", "the app to act on (default: the project in DIR or the current folder, or the nearest folder above it with a spec, else the only app deployed)")
	}
}

// resolveHome fills o.home from the flag, $PYSHIP_HOME or the default (~/.local/share/pyship),
// read with getenv (the command's environment).
func (o *localOptions) resolveHome(getenv func(string) string) error {
	if o.home == "" {
		o.home = getenv("PYSHIP_HOME")
	}
	if o.home == "" {
		h := getenv("HOME")
		if h == "" {
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
	var out outputFlag
	cmd := &cobra.Command{
		Use:   verb + " [DIR]",
		Short: short,
		Long:  long + "\n\n" + appDirHelp,
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if f.dir, _, err = projectDirArg(args, 0); err != nil {
				return err
			}
			plat, app, err := f.open(cmd.Context(), s, false)
			if err != nil {
				return err
			}
			msg, err := act(plat, cmd.Context(), app)
			switch {
			case err != nil:
				return err
			case out.json():
				return writeJSON(s.Out, actionResult{App: app, Message: msg})
			}
			_, err = fmt.Fprintln(s.Out, msg)
			return err
		},
	}
	f.add(cmd)
	out.register(cmd)
	if verb == "abort" { // on Kubernetes it moves traffic back: applies the Service or HTTPRoute
		addForceConflicts(cmd.Flags(), &f.force)
	}
	return cmd
}

// appDirHelp says which app a verb acting on a deployed app chooses.
const appDirHelp = `The app is the project in DIR (default: the current folder, or the nearest folder above it
that holds a spec), whose spec also chooses the target; --app NAME overrides it. Outside any
project, the local target acts on the only app deployed.`

// actionResult is what abort, promote, stop and destroy print with --output json.
type actionResult struct {
	App     string `json:"app"`
	Message string `json:"message"`
}

// client connects to a running agent; commands other than deploy never start one.
func (o *localOptions) client(ctx context.Context, s *streams) (*agent.Client, error) {
	if err := o.resolveHome(s.getenv); err != nil {
		return nil, err
	}
	lp := localtarget.New(localtarget.Options{Home: o.home, Env: s.environ()})
	if err := lp.Connect(ctx); err != nil {
		return nil, err
	}
	return lp.Agent(), nil
}

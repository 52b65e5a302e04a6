package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pyship/pyship/internal/local/agent"
	"github.com/pyship/pyship/internal/plan"
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

// client connects to a running agent; commands other than deploy never start one.
func (o *localOptions) client(ctx context.Context, s *streams) (*agent.Client, error) {
	if err := o.resolveHome(s.getenv); err != nil {
		return nil, err
	}
	c := agent.NewClient(o.home)
	if err := c.Ping(ctx); err != nil {
		return nil, fmt.Errorf("%w; `pyship deploy` starts it, or run `pyship agent --home %s`", err, o.home)
	}
	return c, nil
}

// resolveApp picks the app: the flag; else the project in the current folder (a verb run in
// an app's folder acts on that app, as deploy does); else, outside any project, the only app
// deployed.
func (o *localOptions) resolveApp(ctx context.Context, c *agent.Client) error {
	if o.app != "" {
		return nil
	}
	st, err := c.Status(ctx, "")
	if err != nil {
		return err
	}
	var names []string
	for _, s := range st {
		names = append(names, s.App)
	}
	if here := projectApp(ctx, "."); here != "" {
		if !slices.Contains(names, here) {
			return fmt.Errorf("%s, the project in this folder, is not deployed under %s (deployed: %s): deploy it, or choose an app with --app", here, o.home, listOrNone(names))
		}
		o.app = here
		return nil
	}
	switch len(names) {
	case 0:
		return fmt.Errorf("no app is deployed under %s", o.home)
	case 1:
		o.app = names[0]
		return nil
	}
	return usageError{fmt.Errorf("several apps are deployed (%s): run the command in the app's folder, or choose one with --app", strings.Join(names, ", "))}
}

// projectApp is the name of the app whose project is dir, or "" when dir holds no project
// pyship can name (no spec and no Python files).
func projectApp(ctx context.Context, dir string) string {
	p, _, err := plan.ResolvePartial(ctx, dir, plan.Options{})
	if err != nil || p == nil || p.Run.Entrypoint == "" && p.Name == "" {
		return ""
	}
	if _, err := os.Stat(filepath.Join(dir, "pyship.toml")); err != nil && p.Run.Command == nil {
		return "" // no spec and nothing detected to run: not an app's folder
	}
	return p.Name
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// newActionCmd is a command that asks the agent to act on an app and prints its answer. With
// onKube, it acts on the app on Kubernetes when that is the target.
func newActionCmd(s *streams, verb, short, long string, onKube bool) *cobra.Command {
	var o localOptions
	var tf targetFlags
	cmd := &cobra.Command{
		Use:   verb,
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if onKube {
				ka, err := tf.kube(cmd.Context(), s, o.app)
				if err != nil {
					return err
				}
				if ka != nil {
					msg, err := kubeAct(cmd.Context(), s, ka, verb)
					if err != nil {
						return err
					}
					_, err = fmt.Fprintln(s.Out, msg)
					return err
				}
			}
			c, err := o.client(cmd.Context(), s)
			if err != nil {
				return err
			}
			if err := o.resolveApp(cmd.Context(), c); err != nil {
				return err
			}
			msg, err := c.Act(cmd.Context(), o.app, verb)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(s.Out, msg)
			return err
		},
	}
	o.addFlags(cmd, true)
	if onKube {
		tf.add(cmd.Flags())
		if verb == "abort" { // it moves traffic back: applies the Service or HTTPRoute
			addForceConflicts(cmd.Flags(), &tf.force)
		}
	}
	return cmd
}

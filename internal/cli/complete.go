package cli

import (
	"os"

	"github.com/pyship/pyship/internal/spec"
	"github.com/spf13/cobra"
)

// registerCompletions gives the --env, --target, --strategy and --output flags of c and its
// subcommands their shell completions, wherever the flag is defined.
func registerCompletions(c *cobra.Command) {
	fixed := func(values []string) cobra.CompletionFunc {
		return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
	}
	if c.Flag("output") != nil {
		// Every command's --output takes text or json; one registered by outputFlag.register
		// already is left as it is.
		_ = c.RegisterFlagCompletionFunc("output", fixed([]string{"text", "json"}))
	}
	for name, key := range map[string]string{"target": "deploy.target", "strategy": "deploy.strategy"} {
		if c.Flag(name) != nil {
			_ = c.RegisterFlagCompletionFunc(name, fixed(spec.Allowed(key)))
		}
	}
	if c.Flag("env") != nil {
		_ = c.RegisterFlagCompletionFunc("env", completeEnv)
	}
	for _, sub := range c.Commands() {
		registerCompletions(sub)
	}
}

// completeEnv completes --env with the [env.NAME] overlays of the spec in the DIR argument, or in
// the current folder when the command's first argument is not a folder.
func completeEnv(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	dir := "."
	if len(args) > 0 {
		if st, err := os.Stat(args[0]); err == nil && st.IsDir() {
			dir = args[0]
		}
	}
	sp, err := spec.Load(dir, "")
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return sp.Environments, cobra.ShellCompDirectiveNoFileComp
}

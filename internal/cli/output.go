package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// outputFlag is -o/--output, the same in every verb that has it: text or json, any other
// value refused as the flag is parsed (a usage error, exit 2), before the verb does anything.
type outputFlag struct{ format string }

// register adds -o/--output to c; registerPersistent, to c and its subcommands.
func (o *outputFlag) register(c *cobra.Command) { o.addTo(c, c.Flags()) }

func (o *outputFlag) registerPersistent(c *cobra.Command) { o.addTo(c, c.PersistentFlags()) }

func (o *outputFlag) addTo(c *cobra.Command, fs *pflag.FlagSet) {
	fs.VarP(o, "output", "o", "output format: text or json")
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

// String, Set and Type make it a pflag.Value.
func (o *outputFlag) String() string {
	if o.format == "" {
		return "text"
	}
	return o.format
}

func (o *outputFlag) Set(v string) error {
	if v != "text" && v != "json" {
		return fmt.Errorf("unknown format %q (allowed: text, json)", v)
	}
	o.format = v
	return nil
}

func (o *outputFlag) Type() string { return "format" }

// validate is kept for the verbs that call it: a bad value never gets past parsing.
func (o *outputFlag) validate() error { return nil }

func (o *outputFlag) json() bool { return o.format == "json" }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// dirArg returns the project folder argument, "." by default.
func dirArg(args []string) string {
	if len(args) == 0 {
		return "."
	}
	return args[0]
}

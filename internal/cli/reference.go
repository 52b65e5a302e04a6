package cli

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Reference renders the Markdown reference of every pyship command (docs/cli.md).
func Reference() []byte {
	root := newRootCmd(&streams{})
	root.InitDefaultCompletionCmd()
	var b bytes.Buffer
	b.WriteString("# pyship command reference\n\n")
	b.WriteString("Generated from the commands' own help (`go test ./internal/cli -run TestReferenceCurrent` fails when it is stale;\n")
	b.WriteString("regenerate with `PYSHIP_UPDATE_DOCS=1 go test ./internal/cli -run TestReferenceCurrent`).\n\n")
	b.WriteString("Exit status: 0 success; 1 the command ran and found a problem (syntax errors, a failed rollout, a diff);\n2 bad flags, arguments or spec.\n\n")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		if c != root {
			writeCommand(&b, c)
		}
		subs := c.Commands()
		sort.Slice(subs, func(i, j int) bool { return subs[i].Name() < subs[j].Name() })
		for _, sc := range subs {
			walk(sc)
		}
	}
	walk(root)
	return b.Bytes()
}

func writeCommand(b *bytes.Buffer, c *cobra.Command) {
	fmt.Fprintf(b, "## %s\n\n%s.\n\n", c.CommandPath(), strings.TrimSuffix(c.Short, "."))
	fmt.Fprintf(b, "```\n%s\n```\n\n", c.UseLine())
	if c.Long != "" {
		b.WriteString(strings.TrimSpace(c.Long) + "\n\n")
	}
	if c.Example != "" {
		fmt.Fprintf(b, "Examples:\n\n```\n%s\n```\n\n", strings.TrimRight(c.Example, "\n"))
	}
	var flags []string
	c.NonInheritedFlags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" {
			return
		}
		name := "--" + f.Name
		if f.Shorthand != "" {
			name = "-" + f.Shorthand + ", " + name
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		flags = append(flags, fmt.Sprintf("| `%s` | %s%s |", name, f.Usage, def))
	})
	if len(flags) > 0 {
		b.WriteString("| flag | meaning |\n|---|---|\n")
		b.WriteString(strings.Join(flags, "\n") + "\n\n")
	}
}

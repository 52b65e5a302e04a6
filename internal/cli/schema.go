package cli

import (
	"github.com/pyship/pyship/internal/spec"
	"github.com/spf13/cobra"
)

func newSchemaCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of pyship.toml",
		Long: `Schema prints the JSON Schema (draft 2020-12) of the app spec, for editors that validate TOML
against a schema (for example taplo / Even Better TOML: add
"#:schema ./pyship.schema.json" as the first line of pyship.toml).`,
		Example: `  pyship schema > pyship.schema.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := spec.Schema()
			if err != nil {
				return err
			}
			_, err = s.Out.Write(b)
			return err
		},
	}
}

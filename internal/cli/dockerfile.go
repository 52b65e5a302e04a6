package cli

import (
	"fmt"
	"path/filepath"

	"github.com/pyship/pyship/internal/image"
	"github.com/spf13/cobra"
)

func newDockerfileCmd(s *streams) *cobra.Command {
	var planFile, env, base, out string
	cmd := &cobra.Command{
		Use:   "dockerfile [DIR]",
		Short: "Write a multi-stage Dockerfile that builds the same image with Docker, Podman or BuildKit",
		Long: `Write a multi-stage Dockerfile equivalent to 'pyship build', for teams that build with Docker
or BuildKit, or for dependencies published only as source distributions (pip builds them inside
the base image). Prints it on stdout, or writes it to -f FILE.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			p, err := planSource{dir: dir, planFile: planFile, env: env, in: s.In}.load(cmd.Context())
			if err != nil {
				return err
			}
			if err := checkSyntax(cmd.Context(), s, p, "writing a Dockerfile", ""); err != nil {
				return err
			}
			created, err := sourceDateEpoch(s)
			if err != nil {
				return usageError{err}
			}
			df := image.Dockerfile(cmd.Context(), p, base, created)
			if out == "" {
				_, err = fmt.Fprint(s.Out, df)
				return err
			}
			if err := writeFileAtomic(out, []byte(df), 0o644); err != nil {
				return err
			}
			abs, _ := filepath.Abs(out)
			fmt.Fprintf(s.Err, "wrote %s; build it with: docker build -f %s %s\n", abs, abs, p.Dir)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&planFile, "plan", "", "read the plan from `FILE` (written by pyship plan --output json) instead of resolving DIR")
	f.StringVar(&env, "env", "", "apply the spec's [env.NAME] overlay")
	f.StringVar(&base, "base", "", "the BASE build argument's default (default [build] base, else python:VERSION-slim)")
	f.StringVarP(&out, "file", "f", "", "write the Dockerfile to this file instead of stdout")
	return cmd
}

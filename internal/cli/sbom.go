package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/progress"
	"github.com/pyship/pyship/internal/version"
	"github.com/spf13/cobra"
)

func newSBOMCmd(s *streams) *cobra.Command {
	var planFile, env, base, python string
	cmd := &cobra.Command{
		Use:   "sbom IMAGE|DIR",
		Short: "Print the SPDX 2.3 SBOM of an image or of the app in DIR",
		Long: `Print the SPDX 2.3 JSON SBOM listing every Python package: of IMAGE (a registry reference,
oci-layout:DIR[:REF] or a tarball), read from its filesystem, or of the app in DIR, whose image
is built (from the cache) but not written anywhere.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var doc []byte
			if err := sbomArgIsImage(args[0]); err != nil {
				return err
			}
			if fi, err := os.Stat(args[0]); err == nil && fi.IsDir() {
				p, err := planSource{dir: args[0], planFile: planFile, env: env, in: s.In}.load(ctx)
				if err != nil {
					return err
				}
				if err := checkSyntax(ctx, s, p, "building", image.Interpreter(ctx, python, s.environ())); err != nil {
					return err
				}
				created, err := sourceDateEpoch(s)
				if err != nil {
					return usageError{err}
				}
				res, err := image.Build(ctx, p, image.Options{Env: s.environ(), Python: python, Base: base, Created: created, ToolVersion: version.String(), Progress: platform.ImageProgress(progress.New(s.Err))})
				if err != nil {
					return err
				}
				doc = res.SBOM
			} else {
				img, err := image.Open(ctx, args[0], image.DefaultCacheDir(s.environ()))
				if err != nil {
					return err
				}
				if doc, err = image.SBOMOf(img, "", version.String()); err != nil {
					return fmt.Errorf("reading the packages of %s: %w", args[0], err)
				}
			}
			_, err := fmt.Fprintln(s.Out, string(doc))
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&planFile, "plan", "", "for DIR: read the plan from this file instead of resolving DIR")
	f.StringVar(&env, "env", "", "for DIR: apply the spec's [env.NAME] overlay")
	f.StringVar(&base, "base", "", "for DIR: the base image")
	f.StringVar(&python, "python", "python3", "for DIR: the build host's Python with pip")
	return cmd
}

// sbomArgIsImage refuses an argument that names no project folder and cannot be an image
// either, with the words every verb uses for a missing DIR or a file given as DIR: a path
// (/..., ./..., ../...) that does not exist, or a file that is not an image tarball (.tar).
func sbomArgIsImage(arg string) error {
	fi, err := os.Stat(arg)
	switch {
	case err != nil && namesFolder(arg):
		return plan.CheckProjectDir(arg)
	case err == nil && !fi.IsDir() && !strings.HasSuffix(arg, ".tar") && !strings.HasSuffix(arg, ".tar.gz") && !strings.HasSuffix(arg, ".tgz"):
		return plan.CheckProjectDir(arg)
	}
	return nil
}

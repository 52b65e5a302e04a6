package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pyship/pyship/internal/kube"
	"github.com/spf13/cobra"
)

func newRenderCmd(s *streams) *cobra.Command {
	var rf renderFlags
	var outDir, namespace string
	var showSecrets bool
	cmd := &cobra.Command{
		Use:   "render [DIR]",
		Short: "Print the app's Kubernetes objects as plain, deterministic YAML",
		Long: `render prints the Kubernetes objects of the app in DIR (default .) as YAML that
kubectl apply or a GitOps tool can use: images by digest, objects in apply order.
Secret values are left out unless --show-secrets is given.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := rf.resolve(cmd.Context(), args, s.In)
			if err != nil {
				return err
			}
			b, err := rf.bundle(s, p, namespace)
			if err != nil {
				return err
			}
			b = kube.ForKubectl(b) // no rollout engine applies it
			if outDir == "" {
				return kube.WriteYAML(s.Out, b, showSecrets)
			}
			return writeRenderDir(outDir, b, showSecrets, s)
		},
	}
	rf.add(cmd.Flags())
	cmd.Flags().StringVar(&outDir, "output-dir", "", "write one file per object into the folder `DIR` instead of stdout")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace of the objects (default [kubernetes] namespace, else \"default\")")
	cmd.Flags().BoolVar(&showSecrets, "show-secrets", false, "include the Secret with its values")
	return cmd
}

// writeRenderDir writes NN-kind-name.yaml files, numbered in apply order, and lists them on stdout.
func writeRenderDir(dir string, b *kube.Bundle, showSecrets bool, s *streams) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating --output-dir: %w", err)
	}
	for i, o := range b.Objects {
		one := *b
		one.Objects = b.Objects[i : i+1]
		var sb strings.Builder
		if err := kube.WriteYAML(&sb, &one, showSecrets); err != nil {
			return err
		}
		name := filepath.Join(dir, fmt.Sprintf("%02d-%s-%s.yaml", i+1, strings.ToLower(o.GetKind()), o.GetName()))
		if err := writeFileAtomic(name, []byte(sb.String()), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(s.Out, name)
	}
	return nil
}

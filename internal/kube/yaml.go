package kube

import (
	"fmt"
	"io"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// WriteYAML writes the bundle as a multi-document YAML stream, deterministic (sorted keys,
// objects in apply order). Secrets are replaced by a comment naming their keys unless
// showSecrets is set.
func WriteYAML(w io.Writer, b *Bundle, showSecrets bool) error {
	for i, o := range b.Objects {
		if i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if o.GetKind() == "Secret" && !showSecrets {
			if _, err := fmt.Fprintf(w, "# Secret %s/%s not shown (keys: %v); pass --show-secrets to print it\n",
				o.GetNamespace(), o.GetName(), secretKeys(o)); err != nil {
				return err
			}
			continue
		}
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return fmt.Errorf("writing %s %s as YAML: %w", o.GetKind(), o.GetName(), err)
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	return nil
}

func secretKeys(o *unstructured.Unstructured) []string {
	m, _, _ := unstructured.NestedMap(o.Object, "data")
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

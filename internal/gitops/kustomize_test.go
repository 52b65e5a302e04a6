package gitops

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/testsvc"
)

// TestKustomizeBuildsTheFolder: the real kustomize binary builds a hydrated folder as is, into
// exactly the rendered objects (the Secret left out), field by field.
func TestKustomizeBuildsTheFolder(t *testing.T) {
	bin := testsvc.Start(t, "kustomize")["PYSHIP_TEST_KUSTOMIZE"]
	in := testInput(t, "1.0")
	files, err := Hydrate(in)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	built := kustomizeObjects(t, bin, dir)
	want := map[string]*unstructured.Unstructured{}
	for _, o := range kube.ForKubectl(in.Bundle).Objects { // as Hydrate writes them
		if o.GetKind() != "Secret" {
			want[o.GetKind()+"/"+o.GetName()] = o
		}
	}
	if len(built) != len(want) {
		t.Errorf("kustomize built %d objects, want %d", len(built), len(want))
	}
	for _, o := range built {
		w, ok := want[o.GetKind()+"/"+o.GetName()]
		if !ok {
			t.Errorf("kustomize built %s/%s, which pyship did not render", o.GetKind(), o.GetName())
			continue
		}
		if !reflect.DeepEqual(normalise(t, w), o.Object) {
			t.Errorf("%s/%s differs after kustomize build:\nrendered %v\nbuilt    %v", o.GetKind(), o.GetName(), normalise(t, w), o.Object)
		}
	}
}

// kustomizeObjects runs `kustomize build dir` and decodes its output.
func kustomizeObjects(t *testing.T, bin, dir string) []*unstructured.Unstructured {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, "build", dir)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("kustomize build %s: %v\n%s", dir, err, errb.String())
	}
	return decodeYAML(t, out.Bytes())
}

func decodeYAML(t *testing.T, b []byte) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		var m map[string]any
		if err := d.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decoding YAML: %v", err)
		}
		if m != nil {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
	return objs
}

// normalise gives an object the types a YAML decode gives (int64 numbers and the like).
func normalise(t *testing.T, o *unstructured.Unstructured) map[string]any {
	t.Helper()
	b, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	objs := decodeYAML(t, b)
	if len(objs) != 1 {
		t.Fatalf("decoding %s back: %d objects", o.GetName(), len(objs))
	}
	return objs[0].Object
}

package image_test

import (
	"archive/zip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/plan"
)

// writeWheel writes a minimal pure-Python wheel of name==version into dir.
func writeWheel(t *testing.T, dir, name, version string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%s-py3-none-any.whl", name, version)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z := zip.NewWriter(f)
	info := fmt.Sprintf("%s-%s.dist-info", name, version)
	files := map[string]string{
		name + "/__init__.py": fmt.Sprintf("VERSION = %q\n", version),
		info + "/METADATA":    fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", name, version),
		info + "/WHEEL":       "Wheel-Version: 1.0\nGenerator: pyship-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
	}
	var record strings.Builder
	for _, n := range []string{name + "/__init__.py", info + "/METADATA", info + "/WHEEL"} {
		w, err := z.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[n]))
		record.WriteString(n + ",,\n")
	}
	record.WriteString(info + "/RECORD,,\n")
	w, _ := z.Create(info + "/RECORD")
	w.Write([]byte(record.String()))
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
}

func packageVersion(res *image.Result, name string) string {
	for _, p := range res.Packages {
		if p.Name == name {
			return p.Version
		}
	}
	return ""
}

// The plan's pip options (--find-links from requirements.txt, relative to the project) and
// constraints (-c files) reach pip, and a change to either, or to the pip.conf in effect, is a
// new dependency layer.
func TestDepsHonourPipOptionsConstraintsAndPipConf(t *testing.T) {
	env(t)
	dir := copyApp(t, "worker")
	writeWheel(t, filepath.Join(dir, "wheels"), "privpkg", "1.0")
	writeWheel(t, filepath.Join(dir, "wheels"), "privpkg", "2.0")
	p := appPlan(t, "worker", dir)
	p.Build.Exclude = []string{"/wheels/"}
	p.Dependencies = plan.Dependencies{Kind: "requirements", Source: "requirements.txt",
		Requirements: []plan.Requirement{{Name: "privpkg", Spec: "privpkg"}},
		PipOptions:   []string{"--find-links", "./wheels"},
		Constraints:  []plan.Requirement{{Name: "privpkg", Spec: "privpkg==1.0"}}}
	if got := packageVersion(build(t, p, ""), "privpkg"); got != "1.0" {
		t.Fatalf("privpkg %q installed, want 1.0: the constraint privpkg==1.0 and --find-links ./wheels must reach pip", got)
	}
	p.Dependencies.Constraints[0].Spec = "privpkg==2.0"
	res := build(t, p, "")
	if got := packageVersion(res, "privpkg"); got != "2.0" || res.DepsCached {
		t.Errorf("after the constraint changed to 2.0: privpkg %q, deps cached %v; want 2.0 reinstalled", got, res.DepsCached)
	}

	// The same input under another pip.conf (same path, new contents) is reinstalled too.
	p.Dependencies.Constraints = nil
	p.Dependencies.PipOptions = nil
	other := t.TempDir()
	writeWheel(t, filepath.Join(other, "v1"), "privpkg", "1.0")
	writeWheel(t, filepath.Join(other, "v2"), "privpkg", "2.0")
	conf := filepath.Join(other, "pip.conf")
	for _, v := range []string{"v1", "v2"} {
		if err := os.WriteFile(conf, []byte("[global]\nno-index = true\nfind-links = "+filepath.Join(other, v)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		res := build(t, p, "", "PIP_CONFIG_FILE="+conf, "PIP_FIND_LINKS")
		if want := strings.TrimPrefix(v, "v") + ".0"; packageVersion(res, "privpkg") != want || res.DepsCached {
			t.Errorf("with pip.conf finding links in %s: privpkg %q, deps cached %v; want %s installed", v, packageVersion(res, "privpkg"), res.DepsCached, want)
		}
	}
}

func TestDockerfilePassesPipOptionsAndConstraints(t *testing.T) {
	p := appPlan(t, "worker", t.TempDir())
	p.Dependencies = plan.Dependencies{Kind: "requirements",
		Requirements: []plan.Requirement{{Name: "flask", Spec: "flask==2.2.2", Hashes: []string{"sha256:abc"}}},
		PipOptions:   []string{"--index-url", "https://pypi.example.com/simple", "--trusted-host", "pypi.example.com", "--find-links", "./wheels", "--find-links", "/opt/wheels"},
		Constraints:  []plan.Requirement{{Name: "werkzeug", Spec: "werkzeug<3"}}}
	df := image.Dockerfile(ctxT(t), p, "", time.Time{})
	for _, want := range []string{"'flask==2.2.2 --hash=sha256:abc'", "'werkzeug<3'", "> /tmp/constraints.txt",
		"-r /tmp/requirements.txt -c /tmp/constraints.txt --index-url https://pypi.example.com/simple --trusted-host pypi.example.com --find-links ./wheels --find-links /opt/wheels",
		"COPY wheels /src/wheels\nWORKDIR /src\n"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q:\n%s", want, df)
		}
	}
	if strings.Contains(df, "COPY /opt/wheels") {
		t.Errorf("the Dockerfile copies an absolute --find-links folder from the build context:\n%s", df)
	}
}

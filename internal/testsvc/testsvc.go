package testsvc

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// quick are the services the -short tier may use: they need nothing built or started.
var quick = map[string]bool{"python": true}

// Start runs `scripts/services start NAME` (idempotent: an already running service is reused)
// and returns the variables it exports. A service that cannot start fails the test: tests that
// need a real part never skip silently. Under -short (the fast tier) a test that needs any
// service but the host Python is skipped, saying which; scripts/test prepares every service
// before go test starts, so there a start only finds the service running.
func Start(t testing.TB, name string) map[string]string {
	t.Helper()
	if testing.Short() && !quick[name] {
		t.Skipf("-short: needs the %s service (scripts/test runs this test)", name)
	}
	if prepared, ok := os.LookupEnv("PYSHIP_TEST_PREPARED"); ok && !slices.Contains(strings.Fields(prepared), name) {
		t.Fatalf("scripts/test did not prepare the %s service before go test (it prepared %q): add it to the list in scripts/test, so no test builds a service inside its timeout", name, prepared)
	}
	root := RepoRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "services"), "start", name)
	// Files, not pipes: a daemon the script starts may keep its inherited stdout open, and
	// waiting for a pipe's end would then never return.
	outf, err := os.CreateTemp("", "pyship-svc-out-*")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(outf.Name())
	defer outf.Close()
	errf, err := os.CreateTemp("", "pyship-svc-err-*")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(errf.Name())
	defer errf.Close()
	cmd.Stdout, cmd.Stderr = outf, errf
	cmd.WaitDelay = time.Second
	runErr := cmd.Run()
	out, _ := os.ReadFile(outf.Name())
	if runErr != nil {
		errb, _ := os.ReadFile(errf.Name())
		t.Fatalf("scripts/services start %s: %v\n%s", name, runErr, errb)
	}
	return ParseExports(string(out))
}

// ParseExports reads `export VAR=value` lines (values optionally single- or double-quoted).
func ParseExports(s string) map[string]string {
	vars := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		line, ok := strings.CutPrefix(line, "export ")
		if !ok {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		vars[k] = v
	}
	return vars
}

// RepoRoot is the folder holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testsvc: no go.mod above the test's folder")
		}
		dir = parent
	}
}

// Shared is ../shared beside the repository (test data such as the wheelhouse), or "" when absent.
func Shared(t testing.TB) string {
	t.Helper()
	d := filepath.Join(filepath.Dir(RepoRoot(t)), "shared")
	if _, err := os.Stat(d); err != nil {
		return ""
	}
	return d
}

// CopyTree copies the folder src (files, folders, modes, symlinks) into a new temporary
// folder of the same base name, outside any git work tree, and returns its path.
func CopyTree(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
	return dst
}

// WriteTree writes files (slash-separated relative path → content) into a new temporary
// folder and returns its path.
func WriteTree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// WantOneWarning checks that exactly one of the warnings mentioning any of about contains want,
// or, when want is "", that none mentions them.
func WantOneWarning(t testing.TB, warnings []string, want string, about ...string) {
	t.Helper()
	var got []string
	for _, w := range warnings {
		for _, a := range about {
			if strings.Contains(w, a) {
				got = append(got, w)
				break
			}
		}
	}
	switch {
	case want == "" && len(got) > 0:
		t.Errorf("unexpected warnings %q", got)
	case want != "" && (len(got) != 1 || !strings.Contains(got[0], want)):
		t.Errorf("warnings = %q, want one containing %q", got, want)
	}
}

// Kubeconfig is the kubeconfig of the cluster the Kubernetes tests run against: the file
// KUBECONFIG names when it is set, so the same tests run against any cluster (they work in
// namespaces of their own and delete only what they created), else the test control plane
// that `scripts/services start kube` starts (which also honours PYSHIP_TEST_KUBECONFIG).
func Kubeconfig(t testing.TB) string {
	t.Helper()
	return KubeconfigFrom(t, os.Getenv("KUBECONFIG"))
}

// KubeconfigFrom is Kubeconfig with kc as the value of KUBECONFIG.
func KubeconfigFrom(t testing.TB, kc string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs a Kubernetes cluster (scripts/test runs this test)")
	}
	if kc == "" {
		return Start(t, "kube")["KUBECONFIG"]
	}
	if strings.Contains(kc, string(os.PathListSeparator)) {
		t.Fatalf("KUBECONFIG=%s lists several files; point it at the one kubeconfig of the cluster to test against (or unset it for the test control plane)", kc)
	}
	if _, err := os.Stat(kc); err != nil {
		t.Fatalf("KUBECONFIG=%s: %v; point it at the kubeconfig of the cluster to test against, or unset it for the test control plane", kc, err)
	}
	return kc
}

// WithEnv is env (KEY=VALUE, as os.Environ gives it) with each KEY=VALUE of kv in place of
// that key's earlier values and each bare KEY of kv unset: the environment one test hands to
// the code under test or to a child process, instead of changing the process's with t.Setenv
// (which forbids t.Parallel).
func WithEnv(env []string, kv ...string) []string {
	out := slices.Clone(env)
	for _, s := range kv {
		k, _, set := strings.Cut(s, "=")
		out = slices.DeleteFunc(out, func(e string) bool { return strings.HasPrefix(e, k+"=") })
		if set {
			out = append(out, s)
		}
	}
	return out
}

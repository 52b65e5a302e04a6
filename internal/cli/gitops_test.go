package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/pyship/pyship/internal/gitops"
	"github.com/pyship/pyship/internal/testsvc"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// gitOpsProject writes a web app with staging and prod overlays.
func gitOpsProject(t *testing.T) string {
	t.Helper()
	return testsvc.WriteTree(t, map[string]string{
		"pyship.toml": "name = \"web\"\nversion = \"1.4.0\"\n[run]\nkind = \"web\"\ncommand = \"python main.py\"\nport = 8000\n[env.staging.deploy]\nreplicas = 1\n[env.prod.deploy]\nreplicas = 3\n",
		"main.py":     "print(1)\n",
	})
}

// bareRepo makes an empty repository on the test Git server and returns its plain-HTTP URL.
func bareRepo(t *testing.T) string {
	t.Helper()
	vars := testsvc.Start(t, "git")
	name := fmt.Sprintf("cli-%d.git", time.Now().UnixNano())
	bare := filepath.Join(vars["PYSHIP_TEST_GIT_ROOT"], name)
	if _, err := git.PlainInitWithOptions(bare, &git.PlainInitOptions{Bare: true, InitOptions: git.InitOptions{DefaultBranch: plumbing.Main}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(bare) })
	return vars["PYSHIP_TEST_GIT_HTTP"] + "/" + name
}

// cloneRepo checks branch of url out into a new folder.
func cloneRepo(t *testing.T, url, branch string) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := git.PlainClone(dir, false, &git.CloneOptions{URL: url, ReferenceName: plumbing.NewBranchReferenceName(branch), SingleBranch: true}); err != nil {
		t.Fatalf("cloning %s at %s: %v", url, branch, err)
	}
	return dir
}

func TestGitOpsPush(t *testing.T) {
	dir := gitOpsProject(t)
	url := bareRepo(t)
	push := []string{"gitops", "push", dir, "--repo", url, "--image", cliImage, "--author", "CI <ci@example.com>"}
	code, out, errs := runCLI(t, append(push, "--env", "staging")...)
	if code != ExitOK || !strings.HasPrefix(out, "main ") || !strings.Contains(errs, "pushed apps/web/staging to main") {
		t.Fatalf("push: exit %d\n%s\n%s", code, out, errs)
	}
	commit := strings.Fields(out)[1]
	code, _, errs = runCLI(t, append(push, "--env", "prod")...)
	if code != ExitOK {
		t.Fatalf("push prod: exit %d\n%s", code, errs)
	}
	clone := cloneRepo(t, url, "main")
	for _, f := range []string{"kustomization.yaml", "deployment-web.yaml", "service-web.yaml", "provenance.json", "README.md"} {
		for _, env := range []string{"staging", "prod"} {
			if _, err := os.Stat(filepath.Join(clone, "apps/web", env, f)); err != nil {
				t.Errorf("the repository lacks apps/web/%s/%s", env, f)
			}
		}
	}
	readme, _ := os.ReadFile(filepath.Join(clone, "apps/web/staging/README.md"))
	want := "pyship gitops push --env staging --image " + cliImage + " --repo " + url
	if !strings.Contains(string(readme), want) {
		t.Errorf("README lacks the reproducing command %q:\n%s", want, readme)
	}
	var prov gitops.Provenance
	b, _ := os.ReadFile(filepath.Join(clone, "apps/web/staging/provenance.json"))
	if err := json.Unmarshal(b, &prov); err != nil || prov.Version != "1.4.0" || prov.ImageDigest != cliImage[strings.Index(cliImage, "@")+1:] || !strings.HasPrefix(prov.PlanHash, "sha256:") {
		t.Errorf("provenance %+v, %v", prov, err)
	}
	r, _ := git.PlainOpen(clone)
	c, err := r.CommitObject(plumbing.NewHash(commit))
	if err != nil || !strings.HasPrefix(c.Message, "deploy web to staging: 1.4.0 (sha256:1111") || c.Author.Email != "ci@example.com" {
		t.Errorf("the staging commit %v: %q by %v", err, c.Message, c.Author)
	}
	if d, _ := os.ReadFile(filepath.Join(clone, "apps/web/prod/deployment-web.yaml")); !strings.Contains(string(d), "replicas: 3") {
		t.Errorf("prod's Deployment lacks its overlay's replicas:\n%s", d)
	}

	// Byte-identical output: the same push again commits nothing.
	code, out, errs = runCLI(t, append(push, "--env", "staging")...)
	if code != ExitOK || strings.TrimSpace(out) != "main" || !strings.Contains(errs, "up to date") {
		t.Errorf("the same push again: exit %d %q\n%s", code, out, errs)
	}

	// --branch: the change on its own branch, main untouched.
	code, out, errs = runCLI(t, append(push, "--env", "staging", "--memory", "300Mi", "--branch")...)
	if code != ExitOK || !strings.HasPrefix(out, "pyship/web-staging-1.4.0-") {
		t.Fatalf("--branch: exit %d %q\n%s", code, out, errs)
	}
	branch := strings.Fields(out)[0]
	if d, _ := os.ReadFile(filepath.Join(cloneRepo(t, url, branch), "apps/web/staging/deployment-web.yaml")); !strings.Contains(string(d), "memory: 300Mi") {
		t.Errorf("the branch's Deployment lacks the change:\n%s", d)
	}
	if d, _ := os.ReadFile(filepath.Join(cloneRepo(t, url, "main"), "apps/web/staging/deployment-web.yaml")); strings.Contains(string(d), "300Mi") {
		t.Error("--branch changed main")
	}

	// Bad input: clear errors, nothing pushed.
	mainBefore := commitOf(t, url, "main")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--env", "qa"}, ExitUsage, `unknown environment "qa"`},
		{[]string{"--env", "staging", "--path", "../up"}, ExitUsage, "outside the repository"},
		{[]string{"--env", "staging", "--repo", "http://127.0.0.1:1/x.git"}, ExitFailure, "does not answer"},
		{[]string{"--env", "staging", "--image", "registry.example/web:latest"}, ExitUsage, "not by digest"},
		{[]string{}, ExitUsage, "pass --env"},
	} {
		code, _, errs := runCLI(t, append(push, tc.args...)...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q:\n%s", tc.args, code, tc.code, tc.want, errs)
		}
	}
	if commitOf(t, url, "main") != mainBefore {
		t.Error("main moved under a refused push")
	}
}

func commitOf(t *testing.T, url, branch string) string {
	t.Helper()
	r, err := git.PlainOpen(cloneRepo(t, url, branch))
	if err != nil {
		t.Fatal(err)
	}
	h, err := r.Head()
	if err != nil {
		t.Fatal(err)
	}
	return h.Hash().String()
}

// TestGitOpsFolderAppliesAsRendered: the real kustomize builds the pushed env folder, the
// output is applied server-side on the test control plane (as Flux's kustomize-controller
// would), and the live objects are pyship's rendered ones field by field: pyship's own diff
// (a server-side dry run of its apply) finds nothing to change.
func TestGitOpsFolderAppliesAsRendered(t *testing.T) {
	kc, c := kubeNamespace(t, "cli-gitops")
	bin := testsvc.Start(t, "kustomize")["PYSHIP_TEST_KUSTOMIZE"]
	dir := gitOpsProject(t)
	url := bareRepo(t)
	args := []string{"--env", "prod", "--image", cliImage, "-n", c.Namespace, "--host", "web.example.com"}
	if code, _, errs := runCLI(t, append([]string{"gitops", "push", dir, "--repo", url}, args...)...); code != ExitOK {
		t.Fatalf("push: exit %d\n%s", code, errs)
	}
	clone := cloneRepo(t, url, "main")
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, "build", filepath.Join(clone, "apps/web/prod"))
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("kustomize build: %v\n%s", err, errb.String())
	}
	built := decodeObjects(t, &out)

	code, rendered, errs := runCLI(t, append([]string{"render", dir}, args...)...)
	if code != ExitOK {
		t.Fatalf("render: exit %d\n%s", code, errs)
	}
	want := decodeObjects(t, strings.NewReader(rendered))
	if len(built) != len(want) || len(want) < 4 {
		t.Fatalf("kustomize built %d objects, render gave %d", len(built), len(want))
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, u := range built {
		m, err := c.Mapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Dynamic.Resource(m.Resource).Namespace(c.Namespace).Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "kustomize-controller"}); err != nil {
			t.Fatalf("applying the built %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	for _, w := range want {
		m, err := c.Mapper.RESTMapping(w.GroupVersionKind().GroupKind(), w.GroupVersionKind().Version)
		if err != nil {
			t.Fatal(err)
		}
		live, err := c.Dynamic.Resource(m.Resource).Namespace(c.Namespace).Get(ctx, w.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Fatalf("the rendered %s %s is not live: %v", w.GetKind(), w.GetName(), err)
		}
		if path, ok := subset(w.Object, live.Object, w.GetKind()+"/"+w.GetName()); !ok {
			t.Errorf("the live object differs from pyship's render at %s", path)
		}
	}
	code, out2, errs := runCLI(t, append([]string{"diff", dir, "--kubeconfig", kc}, args...)...)
	if code != ExitOK || !strings.Contains(errs, "no changes") {
		t.Errorf("pyship diff against the GitOps-applied objects: exit %d\n%s\n%s", code, out2, errs)
	}
}

// subset reports whether every field of want has the same value in got, and where not.
func subset(want, got any, path string) (string, bool) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path, false
		}
		for k, v := range w {
			if p, ok := subset(v, g[k], path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path, false
		}
		for i := range w {
			if p, ok := subset(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); !ok {
				return p, false
			}
		}
		return "", true
	default:
		// Numbers decode as int64 or float64 depending on the decoder: compare their text.
		if reflect.DeepEqual(want, got) || (want != nil && got != nil && fmt.Sprint(want) == fmt.Sprint(got)) {
			return "", true
		}
		return fmt.Sprintf("%s (want %v, live %v)", path, want, got), false
	}
}

func decodeObjects(t *testing.T, r io.Reader) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	d := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	for {
		var m map[string]any
		if err := d.Decode(&m); err == io.EOF {
			return objs
		} else if err != nil {
			t.Fatalf("decoding YAML: %v", err)
		}
		if m != nil {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
}

func TestGitOpsBootstrap(t *testing.T) {
	dir := gitOpsProject(t)
	code, out, errs := runCLI(t, "gitops", "bootstrap", dir, "--repo", "https://git.example/platform.git", "--env", "prod", "-n", "web")
	if code != ExitOK || !strings.Contains(out, "kind: GitRepository") || !strings.Contains(out, "kind: Kustomization") || !strings.Contains(out, "path: ./apps/web/prod") {
		t.Errorf("flux: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runCLI(t, "gitops", "bootstrap", dir, "--repo", "https://git.example/platform.git", "--env", "prod", "--controller", "argocd")
	if code != ExitOK || !strings.Contains(out, "kind: Application") || !strings.Contains(out, "path: apps/web/prod") {
		t.Errorf("argocd: exit %d\n%s\n%s", code, out, errs)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--env", "qa"}, `unknown environment "qa"`},
		{[]string{"--env", "prod", "--controller", "jenkins"}, "give flux or argocd"},
		{[]string{"--env", "prod", "--path", "/abs"}, "relative to the repository's root"},
	} {
		code, _, errs := runCLI(t, append([]string{"gitops", "bootstrap", dir, "--repo", "https://git.example/p.git"}, tc.args...)...)
		if code != ExitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q\n%s", tc.args, code, ExitUsage, tc.want, errs)
		}
	}
}

// TestGitOpsPushEncryptsSecrets: with --age-recipient the app's Secret goes to Git
// SOPS-encrypted, never in plaintext; the README's command repeats the flag.
func TestGitOpsPushEncryptsSecrets(t *testing.T) {
	pf := writePlan(t, "web")
	url := bareRepo(t)
	const r1, r2 = "age1nsnvtv6vtcxfdnre3zexhvs6ugh2t6hn5lvdcessz3hmnrwhqfhswgrczq", "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
	code, _, errs := runCLI(t, "gitops", "push", "--plan", pf, "--env", "prod", "--repo", url, "--image", cliImage, "--age-recipient", r1, "--age-recipient", r2)
	if code != ExitOK {
		t.Fatalf("push: exit %d\n%s", code, errs)
	}
	clone := cloneRepo(t, url, "main")
	enc, err := os.ReadFile(filepath.Join(clone, "apps/web/prod/secret-web-secrets.sops.yaml"))
	if err != nil || !strings.Contains(string(enc), "ENC[AES256_GCM,") || !strings.Contains(string(enc), r2) {
		t.Fatalf("the encrypted Secret: %v\n%s", err, enc)
	}
	err = filepath.WalkDir(clone, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), "hunter2") {
			t.Errorf("%s holds the secret in plaintext", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	readme, _ := os.ReadFile(filepath.Join(clone, "apps/web/prod/README.md"))
	if !strings.Contains(string(readme), "--age-recipient "+r1+" --age-recipient "+r2) {
		t.Errorf("README's command:\n%s", readme)
	}
}

// TestGitOpsPromoteAndRollback: promote copies staging's exact image to prod for two apps in
// one commit, without rebuilding; rollback writes a revert commit that puts prod back.
func TestGitOpsPromoteAndRollback(t *testing.T) {
	web := gitOpsProject(t)
	api := testsvc.WriteTree(t, map[string]string{
		"pyship.toml": "name = \"api\"\nversion = \"2.0.0\"\n[run]\nkind = \"web\"\ncommand = \"python main.py\"\nport = 8000\n[env.staging.deploy]\nreplicas = 1\n[env.prod.deploy]\nreplicas = 2\n",
		"main.py":     "print(1)\n",
	})
	url := bareRepo(t)
	const old = "registry.example/web@sha256:0000000000000000000000000000000000000000000000000000000000000000"
	for _, step := range [][]string{
		{"gitops", "push", web, "--env", "prod", "--image", old},
		{"gitops", "push", api, "--env", "prod", "--image", old},
		{"gitops", "push", web, "--env", "staging", "--image", cliImage},
		{"gitops", "push", api, "--env", "staging", "--image", cliImage},
	} {
		if code, _, errs := runCLI(t, append(step, "--repo", url)...); code != ExitOK {
			t.Fatalf("%v: exit %d\n%s", step, code, errs)
		}
	}
	code, out, errs := runCLI(t, "gitops", "promote", web, api, "--from", "staging", "--to", "prod", "--repo", url, "--skip-health-check")
	if code != ExitOK {
		t.Fatalf("promote: exit %d\n%s", code, errs)
	}
	promoted := strings.Fields(out)[1]
	clone := cloneRepo(t, url, "main")
	for _, app := range []string{"web", "api"} {
		d, _ := os.ReadFile(filepath.Join(clone, "apps", app, "prod", "deployment-"+app+".yaml"))
		if !strings.Contains(string(d), cliImage) || strings.Contains(string(d), old) {
			t.Errorf("prod's %s Deployment after the promotion:\n%s", app, d)
		}
	}
	if d, _ := os.ReadFile(filepath.Join(clone, "apps/api/prod/deployment-api.yaml")); !strings.Contains(string(d), "replicas: 2") {
		t.Errorf("the promotion lost prod's own overlay (replicas 2):\n%s", d)
	}
	r, _ := git.PlainOpen(clone)
	c, err := r.CommitObject(plumbing.NewHash(promoted))
	if err != nil || !strings.HasPrefix(c.Message, "promote web 1.4.0 (sha256:1111") || !strings.Contains(c.Message, "api 2.0.0") || !strings.Contains(c.Message, "from staging to prod") {
		t.Errorf("the promotion commit: %v\n%s", err, c.Message)
	}

	// Refused: an env never pushed.
	if code, _, errs := runCLI(t, "gitops", "promote", web, "--from", "qa", "--to", "prod", "--repo", url, "--skip-health-check"); code == ExitOK || !strings.Contains(errs, `unknown environment "qa"`) && !strings.Contains(errs, "never been pushed") {
		t.Errorf("promote from an unknown env: exit %d\n%s", code, errs)
	}

	// Rollback through Git: a revert commit of prod's last change for web.
	code, out, errs = runCLI(t, "gitops", "rollback", "--app", "web", "--env", "prod", "--repo", url)
	if code != ExitOK || !strings.Contains(errs, "reverted "+promoted) {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, out, errs)
	}
	clone = cloneRepo(t, url, "main")
	if d, _ := os.ReadFile(filepath.Join(clone, "apps/web/prod/deployment-web.yaml")); !strings.Contains(string(d), old) {
		t.Errorf("prod's web Deployment after the rollback:\n%s", d)
	}
	if d, _ := os.ReadFile(filepath.Join(clone, "apps/api/prod/deployment-api.yaml")); !strings.Contains(string(d), cliImage) {
		t.Error("rolling back web touched api")
	}
	r, _ = git.PlainOpen(clone)
	head, _ := r.Head()
	c, _ = r.CommitObject(head.Hash())
	if !strings.HasPrefix(c.Message, `Revert "promote web`) || !strings.Contains(c.Message, "This reverts commit "+promoted) {
		t.Errorf("the rollback commit:\n%s", c.Message)
	}
}

// TestGitOpsPromoteChecksTheSourceEnv: promote refuses when the source env's cluster does not
// run its release healthily, and promotes when it does.
func TestGitOpsPromoteChecksTheSourceEnv(t *testing.T) {
	kc, c := kubeNamespace(t, "cli-promote")
	dir := gitOpsProject(t)
	url := bareRepo(t)
	if code, _, errs := runCLI(t, "gitops", "push", dir, "--env", "staging", "--image", cliImage, "--repo", url, "-n", c.Namespace); code != ExitOK {
		t.Fatalf("push: exit %d\n%s", code, errs)
	}
	promote := []string{"gitops", "promote", dir, "--from", "staging", "--to", "prod", "--repo", url, "--kubeconfig", kc, "-n", c.Namespace}
	code, _, errs := runCLI(t, promote...)
	if code == ExitOK || !strings.Contains(errs, "web is not running in staging") {
		t.Fatalf("promote of a release staging does not run: exit %d\n%s", code, errs)
	}
	plan := filepath.Join(t.TempDir(), "staging.plan")
	if code, _, errs := runCLI(t, "plan", dir, "--env", "staging", "--target", "kubernetes", "--image", cliImage, "--kubeconfig", kc, "-n", c.Namespace, "--out", plan); code != ExitOK {
		t.Fatalf("plan: exit %d\n%s", code, errs)
	}
	if code, _, errs := runCLI(t, "apply", plan, "--kubeconfig", kc); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s", code, errs)
	}
	code, _, errs = runCLI(t, promote...)
	if code != ExitOK {
		t.Fatalf("promote of a release staging runs healthily: exit %d\n%s", code, errs)
	}
}

func TestPlanAllEnvs(t *testing.T) {
	dir := testsvc.WriteTree(t, map[string]string{
		"pyship.toml": "name = \"web\"\nversion = \"1\"\n[run]\nkind = \"web\"\ncommand = \"python main.py\"\nport = 8000\n[env.staging.deploy]\nreplicas = 1\n[env.prod.deploy]\nreplicas = 3\n[env.prod.env]\nLOG = \"warn\"\n",
		"main.py":     "print(1)\n",
	})
	code, out, errs := runCLI(t, "plan", dir, "--env", "all")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := [][]string{{"KEY", "(BASE)", "PROD", "STAGING"}, {"deploy.replicas", "1", "3", "1"}, {"env.LOG", "-", `"warn"`, "-"}}
	if len(lines) != len(want) {
		t.Fatalf("plan --env all:\n%s", out)
	}
	for i, w := range want {
		if got := strings.Fields(lines[i]); !reflect.DeepEqual(got, w) {
			t.Errorf("line %d: %q, want %q", i, got, w)
		}
	}
	if code, _, errs := runCLI(t, "plan", gitOpsProject(t), "--env", "all", "-o", "json"); code != ExitOK {
		t.Errorf("--env all -o json: exit %d\n%s", code, errs)
	}
}

package gitops

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/local/agent"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/local/supervise"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/testsvc"
	"golang.org/x/crypto/ssh"
)

const testImage = "registry.example/web@sha256:1111111111111111111111111111111111111111111111111111111111111111"

// testPlan is a resolved web app's plan.
func testPlan(version string) *plan.Plan {
	return &plan.Plan{SchemaVersion: plan.SchemaVersion, Name: "web", Version: version,
		Run:    plan.Run{Kind: "web", Server: "gunicorn", Port: 8000, Workers: 2, Command: []string{"gunicorn", "app:app"}},
		Health: plan.Health{Type: "http", Path: "/health", Interval: "2s", Timeout: "1s", StartupTimeout: "20s"},
	}
}

func testInput(t *testing.T, version string) Input {
	t.Helper()
	b, err := kube.Render(testPlan(version), kube.Options{Image: testImage, Namespace: "web-staging", Secrets: map[string]string{"TOKEN": "hunter2"}})
	if err != nil {
		t.Fatal(err)
	}
	return Input{Bundle: b, Provenance: Provenance{App: "web", Env: "staging", Version: version, Image: testImage,
		ImageDigest: testImage[strings.Index(testImage, "@")+1:], PlanHash: "sha256:abc", Pyship: "test",
		Command: "pyship gitops push --env staging --image " + testImage + " REPO"}}
}

func TestHydrateIsDeterministicAndLeavesSecretsOut(t *testing.T) {
	a, err := Hydrate(testInput(t, "1.0"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Hydrate(testInput(t, "1.0"))
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d files, then %d", len(a), len(b))
	}
	for n := range a {
		if !bytes.Equal(a[n], b[n]) {
			t.Errorf("%s differs between two hydrations of the same input", n)
		}
	}
	for _, n := range []string{"kustomization.yaml", "provenance.json", "README.md", "deployment-web.yaml", "service-web.yaml"} {
		if _, ok := a[n]; !ok {
			t.Errorf("no %s among %v", n, keys(a))
		}
	}
	for n, data := range a {
		if strings.Contains(string(data), "hunter2") || strings.HasPrefix(n, "secret-") {
			t.Errorf("%s carries the secret in plaintext", n)
		}
	}
	var prov Provenance
	if err := json.Unmarshal(a["provenance.json"], &prov); err != nil {
		t.Fatal(err)
	}
	if prov.ImageDigest != "sha256:"+strings.Repeat("1", 64) || len(prov.OmittedSecrets) != 1 || prov.OmittedSecrets[0] != "web-secrets" {
		t.Errorf("provenance: %+v", prov)
	}
	if !strings.Contains(string(a["README.md"]), prov.Command) {
		t.Errorf("README lacks the reproducing command:\n%s", a["README.md"])
	}
	if !strings.Contains(string(a["kustomization.yaml"]), "- deployment-web.yaml") {
		t.Errorf("kustomization:\n%s", a["kustomization.yaml"])
	}

	in := testInput(t, "1.0")
	in.Provenance.Image = "registry.example/web:latest"
	if _, err := Hydrate(in); err == nil || !strings.Contains(err.Error(), "not by digest") {
		t.Errorf("an image by tag: %v", err)
	}
}

func keys(f Files) []string {
	var k []string
	for n := range f {
		k = append(k, n)
	}
	return k
}

func TestPaths(t *testing.T) {
	for _, tc := range []struct{ root, want, err string }{
		{"", "apps/web/staging", ""},
		{"clusters/eu/", "clusters/eu/apps/web/staging", ""},
		{"../elsewhere", "", "outside the repository"},
		{"a/../../b", "", "outside the repository"},
		{"/etc", "", "relative to the repository's root"},
		{".git/hooks", "", ".git"},
	} {
		got, err := EnvPath(tc.root, "web", "staging")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("EnvPath(%q): %q, %v; want an error with %q", tc.root, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("EnvPath(%q) = %q, %v; want %q", tc.root, got, err, tc.want)
		}
	}
	if _, err := EnvPath("", "web", "Prod!"); err == nil {
		t.Error("an env that cannot name a folder was accepted")
	}
}

// gitServer starts the test Git server and returns it with a fresh bare repository's name,
// made with one commit on main when seeded.
type gitServer struct {
	vars map[string]string
	name string
}

func newRepo(t *testing.T, seeded bool) gitServer {
	t.Helper()
	vars := testsvc.Start(t, "git")
	name := fmt.Sprintf("%s-%d.git", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano())
	bare := filepath.Join(vars["PYSHIP_TEST_GIT_ROOT"], name)
	if _, err := git.PlainInitWithOptions(bare, &git.PlainInitOptions{Bare: true, InitOptions: git.InitOptions{DefaultBranch: plumbing.Main}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(bare) })
	s := gitServer{vars: vars, name: name}
	if seeded {
		if _, err := Publish(context.Background(), s.target("seed"), []Change{{Path: "docs", Files: Files{"README.md": []byte("the platform repo\n")}}}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (s gitServer) url() string { return s.vars["PYSHIP_TEST_GIT_HTTP"] + "/" + s.name }

func (s gitServer) target(msg string) Target {
	return Target{Repo: s.url(), Message: msg, Author: object.Signature{Name: "pyship test", Email: "test@pyship.invalid"},
		Creds: Credentials{Getenv: func(string) string { return "" }}}
}

// read clones the repository afresh and returns the file at path on branch.
func (s gitServer) read(t *testing.T, branch, path string) (string, *object.Commit) {
	t.Helper()
	dir := t.TempDir()
	r, err := git.PlainClone(dir, false, &git.CloneOptions{URL: s.url(), ReferenceName: plumbing.NewBranchReferenceName(branch), SingleBranch: true})
	if err != nil {
		t.Fatalf("cloning %s at %s: %v", s.url(), branch, err)
	}
	head, _ := r.Head()
	c, err := r.CommitObject(head.Hash())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, path))
	return string(b), c
}

func envChange(t *testing.T, version string) []Change {
	t.Helper()
	f, err := Hydrate(testInput(t, version))
	if err != nil {
		t.Fatal(err)
	}
	return []Change{{Path: "apps/web/staging", Files: f}}
}

func TestPublishPushesOnceAndIsIdempotent(t *testing.T) {
	s := newRepo(t, true)
	ctx := context.Background()
	res, err := Publish(ctx, s.target("web staging 1.0"), envChange(t, "1.0"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Pushed || res.Branch != "main" || res.Commit == "" {
		t.Fatalf("result %+v", res)
	}
	got, c := s.read(t, "main", "apps/web/staging/provenance.json")
	if c.Hash.String() != res.Commit || c.Message != "web staging 1.0" || !strings.Contains(got, `"version": "1.0"`) {
		t.Errorf("remote main is %s %q with provenance:\n%s", c.Hash, c.Message, got)
	}
	if readme, _ := s.read(t, "main", "docs/README.md"); readme != "the platform repo\n" {
		t.Errorf("a file outside the env folder changed: %q", readme)
	}
	// The same input again: nothing to commit.
	res, err = Publish(ctx, s.target("again"), envChange(t, "1.0"))
	if err != nil || res.Commit != "" || res.Pushed {
		t.Errorf("second publish of the same input: %+v, %v", res, err)
	}
	// An object removed from the app is removed from the folder.
	ch := envChange(t, "1.1")
	delete(ch[0].Files, "service-web.yaml")
	if _, err := Publish(ctx, s.target("fewer"), ch); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.read(t, "main", "apps/web/staging/service-web.yaml"); got != "" {
		t.Error("a file no longer hydrated stayed in the folder")
	}
}

func TestPublishBranchPerChange(t *testing.T) {
	s := newRepo(t, true)
	ctx := context.Background()
	_, mainBefore := s.read(t, "main", "docs/README.md")
	tg := s.target("web staging 2.0")
	tg.Branch = "pyship/web-staging-2.0"
	res, err := Publish(ctx, tg, envChange(t, "2.0"))
	if err != nil || !res.Pushed || res.Branch != tg.Branch {
		t.Fatalf("%+v, %v", res, err)
	}
	got, c := s.read(t, tg.Branch, "apps/web/staging/provenance.json")
	if !strings.Contains(got, `"version": "2.0"`) || len(c.ParentHashes) != 1 || c.ParentHashes[0] != mainBefore.Hash {
		t.Errorf("the branch's commit %s (parents %v, main was %s):\n%s", c.Hash, c.ParentHashes, mainBefore.Hash, got)
	}
	if _, mainAfter := s.read(t, "main", "docs/README.md"); mainAfter.Hash != mainBefore.Hash {
		t.Error("a --branch change moved main")
	}
}

func TestPublishRebasesOntoAMovedRemote(t *testing.T) {
	s := newRepo(t, true)
	ctx := context.Background()
	tg := s.target("web staging 3.0")
	moved := 0
	tg.beforePush = func(attempt int) {
		if attempt > 0 {
			return
		}
		// Someone else pushes between pyship's clone and its push.
		if _, err := Publish(ctx, s.target("other team"), []Change{{Path: "apps/other/prod", Files: Files{"x.yaml": []byte("a: 1\n")}}}); err != nil {
			t.Error(err)
		}
		moved++
	}
	res, err := Publish(ctx, tg, envChange(t, "3.0"))
	if err != nil {
		t.Fatal(err)
	}
	if moved != 1 || res.Retries != 1 || !res.Pushed {
		t.Fatalf("moved %d, result %+v", moved, res)
	}
	other, c := s.read(t, "main", "apps/other/prod/x.yaml")
	mine, _ := s.read(t, "main", "apps/web/staging/provenance.json")
	if other != "a: 1\n" || !strings.Contains(mine, `"version": "3.0"`) || c.Hash.String() != res.Commit {
		t.Errorf("after the rebase main is %s (want %s): other %q, ours:\n%s", c.Hash, res.Commit, other, mine)
	}
	parent, err := c.Parent(0)
	if err != nil || parent.Message != "other team" {
		t.Errorf("pyship's commit is not on top of the other push: parent %v, %v", parent, err)
	}

	// A remote that moves under every attempt: a clear failure, never a force push.
	tg = s.target("web staging 4.0")
	tg.Attempts = 2
	n := 0
	tg.beforePush = func(int) {
		n++
		if _, err := Publish(ctx, s.target(fmt.Sprintf("busy %d", n)), []Change{{Path: "apps/other/prod", Files: Files{"x.yaml": []byte(fmt.Sprintf("a: %d\n", n+1))}}}); err != nil {
			t.Error(err)
		}
	}
	if _, err := Publish(ctx, tg, envChange(t, "4.0")); err == nil || !strings.Contains(err.Error(), "moved under each of 2 attempts") {
		t.Errorf("a remote always moving: %v", err)
	}
	if _, c := s.read(t, "main", "apps/web/staging/provenance.json"); c.Message != "busy 2" {
		t.Errorf("main's tip is %q, want the other pusher's last commit", c.Message)
	}
}

func TestPublishBadInput(t *testing.T) {
	s := newRepo(t, true)
	ctx := context.Background()
	_, before := s.read(t, "main", "docs/README.md")

	// A URL where nothing answers.
	tg := s.target("x")
	tg.Repo = "http://127.0.0.1:1/nothing.git"
	if _, err := Publish(ctx, tg, envChange(t, "1")); err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("unanswered URL: %v", err)
	}

	// HTTPS with a certificate nobody said to trust, with rejected credentials, then with the
	// right ones from ~/.git-credentials.
	httpsURL := s.vars["PYSHIP_TEST_GIT_HTTPS"] + "/" + s.name
	tg.Repo = httpsURL
	if _, err := Publish(ctx, tg, envChange(t, "1")); err == nil || !strings.Contains(err.Error(), "set $GIT_SSL_CAINFO") {
		t.Errorf("an untrusted certificate: %v", err)
	}
	env := map[string]string{"GIT_SSL_CAINFO": s.vars["PYSHIP_TEST_GIT_CA"], "PYSHIP_GIT_USERNAME": "pyship", "PYSHIP_GIT_PASSWORD": "wrong"}
	tg.Repo = httpsURL
	tg.Creds = Credentials{Home: t.TempDir(), Getenv: func(k string) string { return env[k] }}
	if _, err := Publish(ctx, tg, envChange(t, "1")); err == nil || !strings.Contains(err.Error(), "rejected the credentials from $PYSHIP_GIT_USERNAME/$PYSHIP_GIT_PASSWORD") {
		t.Errorf("rejected credentials: %v", err)
	}
	if _, after := s.read(t, "main", "docs/README.md"); after.Hash != before.Hash {
		t.Fatal("a failed publish changed the remote")
	}
	delete(env, "PYSHIP_GIT_PASSWORD")
	store := fmt.Sprintf("https://%s:%s@%s\n", s.vars["PYSHIP_TEST_GIT_USER"], s.vars["PYSHIP_TEST_GIT_PASSWORD"], strings.TrimPrefix(s.vars["PYSHIP_TEST_GIT_HTTPS"], "https://"))
	if err := os.WriteFile(filepath.Join(tg.Creds.Home, ".git-credentials"), []byte(store), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := Publish(ctx, tg, envChange(t, "1"))
	if err != nil || !res.Pushed {
		t.Fatalf("HTTPS with ~/.git-credentials: %+v, %v", res, err)
	}

	// A path outside the repository.
	if _, err := Publish(ctx, s.target("x"), []Change{{Path: "../escape", Files: Files{"a": nil}}}); err == nil || !strings.Contains(err.Error(), "outside the repository") {
		t.Errorf("path outside: %v", err)
	}
}

// commitFile makes dir a Git work tree on main whose one commit holds the file name.
func commitFile(t *testing.T, dir, name, content string) (*git.Worktree, plumbing.Hash) {
	t.Helper()
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.Main}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	w, _ := r.Worktree()
	if _, err := w.Add(name); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "t", Email: "t@t", When: time.Unix(1700000000, 0)}
	h, err := w.Commit("init", &git.CommitOptions{Author: sig})
	if err != nil {
		t.Fatal(err)
	}
	return w, h
}

func TestPublishLocalCheckout(t *testing.T) {
	dir := t.TempDir()
	w, _ := commitFile(t, dir, "README.md", "platform\n")
	tg := Target{Repo: dir, Message: "web staging 1.0", Author: object.Signature{Name: "pyship", Email: "p@p"}}

	// Dirty: refused, nothing written.
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(context.Background(), tg, envChange(t, "1.0")); err == nil || !strings.Contains(err.Error(), "uncommitted changes") || !strings.Contains(err.Error(), "README.md") {
		t.Errorf("dirty checkout: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "apps")); err == nil {
		t.Error("a refused publish wrote into the checkout")
	}
	if err := w.Reset(&git.ResetOptions{Mode: git.HardReset}); err != nil {
		t.Fatal(err)
	}

	res, err := Publish(context.Background(), tg, envChange(t, "1.0"))
	if err != nil || res.Commit == "" || res.Pushed || res.Branch != "main" {
		t.Fatalf("%+v, %v", res, err)
	}
	st, _ := w.Status()
	if !st.IsClean() {
		t.Errorf("the checkout is not clean after the commit:\n%s", st)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "apps/web/staging/kustomization.yaml")); !strings.Contains(string(b), "deployment-web.yaml") {
		t.Errorf("kustomization in the checkout:\n%s", b)
	}
}

func TestCheckPromotable(t *testing.T) {
	src := &Provenance{App: "web", Env: "staging", Image: testImage}
	ok := kube.ReleaseHealth{Total: 2, Ready: 2}
	for _, tc := range []struct {
		name string
		st   kube.AppStatus
		want string
	}{
		{"healthy", kube.AppStatus{Releases: []kube.ReleaseStatus{{Image: testImage, Health: ok}}}, ""},
		{"failed deploy", kube.AppStatus{State: kube.State{Phase: "rolled-back", Failed: "abc"}, Releases: []kube.ReleaseStatus{{Image: testImage, Health: ok}}}, "last deploy of web to staging failed"},
		{"not ready", kube.AppStatus{Releases: []kube.ReleaseStatus{{Image: testImage, Health: kube.ReleaseHealth{Total: 2, Ready: 1}}}}, "not healthy (1/2 ready"},
		{"other image", kube.AppStatus{Releases: []kube.ReleaseStatus{{Image: "r/web@sha256:22", Health: ok}}}, "does not run " + testImage},
		{"not running", kube.AppStatus{}, "not running in staging"},
	} {
		err := CheckPromotable(src, &tc.st)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestPromotionInput: the promotion decision. A project at another commit than the source env
// was built from is refused (CommitError) before the cluster is asked; at that commit, an
// unhealthy source env is refused; a healthy one gives the source's image to Render and the
// target env to the provenance.
func TestPromotionInput(t *testing.T) {
	s := newRepo(t, true)
	ctx := context.Background()
	dir := t.TempDir()
	_, head := commitFile(t, dir, "main.py", "print(1)\n")
	in := testInput(t, "1.0")
	in.Provenance.SourceCommit = strings.Repeat("a", 40)
	files, err := Hydrate(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(ctx, s.target("web staging 1.0"), []Change{{Path: "apps/web/staging", Files: files}}); err != nil {
		t.Fatal(err)
	}
	p := testPlan("1.0")
	p.Dir = dir
	asked := false
	var rendered string
	pr := Promotion{Target: s.target("promote"), From: "staging", To: "prod", Plan: p, Command: "pyship gitops promote",
		Status: func(context.Context, string) (*kube.AppStatus, error) {
			asked = true
			return &kube.AppStatus{Releases: []kube.ReleaseStatus{{Image: testImage, Health: kube.ReleaseHealth{Total: 1, Ready: 0}}}}, nil
		},
		Render: func(p *plan.Plan, img string) (*kube.Bundle, error) {
			rendered = img
			return kube.Render(p, kube.Options{Image: img, Namespace: "web-prod"})
		}}
	var ce *CommitError
	if _, err := pr.Input(ctx); !errors.As(err, &ce) || !strings.Contains(err.Error(), "check that commit out") || asked {
		t.Fatalf("a project at another commit: %v (cluster asked: %v)", err, asked)
	}

	in.Provenance.SourceCommit = head.String()
	if files, err = Hydrate(in); err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(ctx, s.target("web staging 1.0 again"), []Change{{Path: "apps/web/staging", Files: files}}); err != nil {
		t.Fatal(err)
	}
	if _, err := pr.Input(ctx); err == nil || !strings.Contains(err.Error(), "not healthy") || rendered != "" {
		t.Fatalf("an unhealthy source env: %v (rendered %q)", err, rendered)
	}
	pr.Status = nil // --skip-health-check
	got, err := pr.Input(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rendered != testImage || got.Provenance.Env != "prod" || got.Provenance.Image != testImage || got.Provenance.Command != "pyship gitops promote" || got.Bundle.Namespace != "web-prod" {
		t.Errorf("the promotion: rendered %q, provenance %+v", rendered, got.Provenance)
	}
}

func TestFieldPaths(t *testing.T) {
	tree := map[string]any{
		"f:spec": map[string]any{
			"f:replicas": map[string]any{},
			"f:template": map[string]any{"f:spec": map[string]any{"f:containers": map[string]any{
				`k:{"name":"app"}`: map[string]any{".": map[string]any{}, "f:env": map[string]any{
					`k:{"name":"MODE"}`: map[string]any{".": map[string]any{}, "f:value": map[string]any{}},
				}},
			}}},
		},
		"f:metadata": map[string]any{"f:finalizers": map[string]any{"v:example.com/x": map[string]any{}}},
	}
	got := fieldPaths("", tree)
	sort.Strings(got)
	want := []string{"metadata.finalizers[example.com/x]", "spec.replicas", "spec.template.spec.containers[name=app].env[name=MODE].value"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fieldPaths = %q, want %q", got, want)
	}
}

// TestPublishOverSSH: a push over SSH with the key in ~/.ssh and the host checked against the
// known hosts; a key the server does not know and an unknown host key are refused clearly.
func TestPublishOverSSH(t *testing.T) {
	s := newRepo(t, true)
	key, err := os.ReadFile(s.vars["PYSHIP_TEST_GIT_SSH_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	known := s.vars["PYSHIP_TEST_GIT_SSH_KNOWN_HOSTS"]
	tg := s.target("over ssh")
	tg.Repo = s.vars["PYSHIP_TEST_GIT_SSH"] + "/" + s.name
	tg.Creds = Credentials{Home: home, Getenv: func(k string) string {
		if k == "SSH_KNOWN_HOSTS" {
			return known
		}
		return ""
	}}
	res, err := Publish(context.Background(), tg, envChange(t, "5.0"))
	if err != nil || !res.Pushed {
		t.Fatalf("push over SSH: %+v, %v", res, err)
	}
	if got, _ := s.read(t, "main", "apps/web/staging/provenance.json"); !strings.Contains(got, `"version": "5.0"`) {
		t.Errorf("after the SSH push:\n%s", got)
	}

	empty := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	known = empty
	if _, err := Publish(context.Background(), tg, envChange(t, "5.1")); err == nil || !strings.Contains(err.Error(), "host key is not in the known hosts") {
		t.Errorf("an unknown host key: %v", err)
	}
	known = s.vars["PYSHIP_TEST_GIT_SSH_KNOWN_HOSTS"]
	other := t.TempDir()
	if err := os.MkdirAll(filepath.Join(other, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(nil)
	block, _ := ssh.MarshalPrivateKey(priv, "")
	if err := os.WriteFile(filepath.Join(other, ".ssh", "id_ed25519"), pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	tg.Creds.Home = other
	if _, err := Publish(context.Background(), tg, envChange(t, "5.1")); err == nil || !strings.Contains(err.Error(), "rejected the credentials from "+filepath.Join(other, ".ssh", "id_ed25519")) {
		t.Errorf("an unknown client key: %v", err)
	}
}

// TestPublishRefusesSymlinks: a checkout whose apps folder is a symbolic link to a folder
// outside it is refused before anything there is touched.
func TestPublishRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.Main}})
	if err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	victim := filepath.Join(outside, "web", "staging", "keep.txt")
	if err := os.MkdirAll(filepath.Dir(victim), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "apps")); err != nil {
		t.Fatal(err)
	}
	_ = r
	// The real git records the link (go-git's status would call the link a change).
	for _, args := range [][]string{{"add", "apps"}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "link"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	tg := Target{Repo: dir, Message: "m", Author: object.Signature{Name: "p", Email: "p@p"}}
	if _, err := Publish(context.Background(), tg, envChange(t, "1.0")); err == nil || !strings.Contains(err.Error(), "apps is a symbolic link") {
		t.Errorf("a symlinked apps folder: %v", err)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "precious\n" {
		t.Errorf("a file outside the repository was touched: %q, %v", b, err)
	}
}

func TestLocalDrift(t *testing.T) {
	m := &release.Manifest{ID: "r3", Env: map[string]string{"MODE": "prod", "PORT": "8000"}}
	m.Plan.Deploy.Replicas = 2
	st := agent.AppStatus{App: "shop", Stable: "r3", Releases: []agent.ReleaseStatus{{ID: "r3", Replicas: []supervise.Info{{PID: 10}}}}}
	env := func(pid int) (map[string]string, error) {
		return map[string]string{"MODE": "prod", "PORT": "41000"}, nil
	}
	// 99 is a stranger of this app, 98 one of no app; 50 and 51 are replicas of the state
	// folder's other apps (shop-api's name starts as shop's does): theirs, never this app's
	// drift, and never ended by its --reconcile.
	got, err := LocalDrift(st, m, map[int]string{10: "shop-r3-1", 99: "shop-r1-7", 98: "ghost", 50: "other-r1-1", 51: "shop-api-r2-1"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Fields[0] != "replicas: recorded 2, running 1" || len(got[0].Fields) != 1 || got[1].Name != "98" || got[2].Name != "99" {
		t.Errorf("LocalDrift = %+v", got)
	}
	st.Releases[0].Replicas = append(st.Releases[0].Replicas, supervise.Info{PID: 11})
	if got, _ := LocalDrift(st, m, map[int]string{10: "shop-r3-1", 11: "shop-r3-2"}, env); len(got) != 0 {
		t.Errorf("no drift expected (PORT is each replica's own): %+v", got)
	}
}

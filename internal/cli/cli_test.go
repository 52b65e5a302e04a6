package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/pybuild"
	"github.com/pyship/pyship/internal/testsvc"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

type result struct {
	code     int
	out, err string
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, os.Environ(), strings.NewReader(""), &out, &errb)
	return result{code, out.String(), errb.String()}
}

func example(t *testing.T, name string) string {
	return filepath.Join(testsvc.RepoRoot(t), "examples", name)
}

func TestVersion(t *testing.T) {
	r := run(t, "version")
	if r.code != 0 || !strings.HasPrefix(r.out, "pyship ") {
		t.Fatalf("version: code %d, out %q", r.code, r.out)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"nosuchverb"},
		{"plan", "--nosuchflag"},
		{"plan", "a", "b"},
		{"plan", "--output", "yaml", "."},
	} {
		r := run(t, args...)
		if r.code != ExitUsage {
			t.Errorf("pyship %s: exit %d, want %d (stderr %q)", strings.Join(args, " "), r.code, ExitUsage, r.err)
		}
		if !strings.HasPrefix(r.err, "pyship: ") {
			t.Errorf("pyship %s: stderr %q does not start with 'pyship: '", strings.Join(args, " "), r.err)
		}
	}
}

func TestPlanJSONOfEveryExample(t *testing.T) {
	want := map[string]struct{ kind, framework, server string }{
		"stdlib":  {"web", "plain", ""},
		"flask":   {"web", "flask", "gunicorn"},
		"fastapi": {"web", "fastapi", "uvicorn"},
		"django":  {"web", "django", "gunicorn"},
		"worker":  {"worker", "plain", ""},
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			r := run(t, "plan", "--output", "json", example(t, name))
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.err)
			}
			var p plan.Plan
			if err := json.Unmarshal([]byte(r.out), &p); err != nil {
				t.Fatalf("plan JSON: %v\n%s", err, r.out)
			}
			if p.SchemaVersion != plan.SchemaVersion || p.Run.Kind != w.kind || p.Run.Framework != w.framework || p.Run.Server != w.server {
				t.Errorf("schema %d kind %q framework %q server %q, want %d %q %q %q", p.SchemaVersion, p.Run.Kind, p.Run.Framework, p.Run.Server, plan.SchemaVersion, w.kind, w.framework, w.server)
			}
			if len(p.Run.Command) == 0 || p.Evidence["run.command"].Rule == "" {
				t.Errorf("no command or no evidence for it: %+v", p.Run)
			}
		})
	}
}

func TestPlanExplainCitesEvidence(t *testing.T) {
	r := run(t, "plan", "--explain", example(t, "flask"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	if !strings.Contains(r.out, "app.py:") || !strings.Contains(r.out, "requirements.txt") {
		t.Errorf("--explain does not cite app.py:LINE and requirements.txt:\n%s", r.out)
	}
}

func TestCheckReportsSyntaxErrors(t *testing.T) {
	dir := testsvc.CopyTree(t, example(t, "flask"))
	if err := os.WriteFile(filepath.Join(dir, "broken.py"), []byte("x = 1\ndef f(:\n    pass\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "check", dir)
	if r.code != ExitFailure {
		t.Fatalf("check of a broken project: exit %d, want 1 (out %q, err %q)", r.code, r.out, r.err)
	}
	if !strings.HasPrefix(r.out, "broken.py:2:") {
		t.Errorf("check output %q does not start with broken.py:2:", r.out)
	}
	r = run(t, "check", "--output", "json", dir)
	var res pybuild.CheckReport
	if err := json.Unmarshal([]byte(r.out), &res); err != nil {
		t.Fatalf("check JSON: %v\n%s", err, r.out)
	}
	if len(res.Errors) != 1 || res.Errors[0].File != "broken.py" || res.Errors[0].Line != 2 {
		t.Errorf("check JSON errors = %+v, want one at broken.py:2", res.Errors)
	}
}

// TestCheckReportsDetectionProblemsToo: the files are compiled even when detection cannot tell
// how the app starts, and both the syntax errors and the detection problem are reported.
func TestCheckReportsDetectionProblemsToo(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   map[string]string
		syntax  string // the syntax error line, path:line:
		problem string
	}{
		{"no entry point", map[string]string{"lib.py": "def f(:\n    pass\n"},
			"lib.py:1:", "no entry point found"},
		{"starlette without uvicorn", map[string]string{
			"requirements.txt": "starlette\n",
			"api.py":           "from starlette.applications import Starlette\napp = Starlette()\n",
			"broken.py":        "x = (\n"},
			"broken.py:1:", "api.py:2: found Starlette application object api:app, but no ASGI server is in the dependencies: add uvicorn"},
		{"broken requirements include", map[string]string{
			"requirements.txt": "-r nothere.txt\n",
			"main.py":          "print(1\n"},
			"main.py:1:", "requirements.txt:1: included file nothere.txt does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := testsvc.WriteTree(t, tc.files)
			r := run(t, "check", dir)
			if r.code != ExitFailure {
				t.Fatalf("exit %d, want 1 (out %q, err %q)", r.code, r.out, r.err)
			}
			if !strings.HasPrefix(r.out, tc.syntax) {
				t.Errorf("stdout %q does not start with the syntax error %s", r.out, tc.syntax)
			}
			if !strings.Contains(r.err, "pyship: ") || !strings.Contains(r.err, tc.problem) {
				t.Errorf("stderr %q does not report %q", r.err, tc.problem)
			}
			r = run(t, "check", "--output", "json", dir)
			if r.code != ExitFailure {
				t.Fatalf("JSON: exit %d, want 1 (err %q)", r.code, r.err)
			}
			var res pybuild.CheckReport
			if err := json.Unmarshal([]byte(r.out), &res); err != nil {
				t.Fatalf("check JSON: %v\n%s", err, r.out)
			}
			if len(res.Errors) != 1 || !strings.HasPrefix(res.Errors[0].String(), tc.syntax) {
				t.Errorf("JSON errors = %+v, want one at %s", res.Errors, tc.syntax)
			}
			if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], tc.problem) {
				t.Errorf("JSON problems = %q, want one saying %q", res.Problems, tc.problem)
			}
		})
	}
}

func TestCheckCleanExamples(t *testing.T) {
	for _, name := range []string{"stdlib", "flask", "fastapi", "django", "worker"} {
		r := run(t, "check", example(t, name))
		if r.code != 0 || r.out != "" {
			t.Errorf("check %s: exit %d, out %q, err %q", name, r.code, r.out, r.err)
		}
	}
}

// TestInitWarnsAndWritesNoStaleVersion: init prints detection warnings (the spec it writes pins
// what they are about, so plan would not show them again), and suggests a version only when a
// file gives one (a content hash changes as soon as pyship.toml is written).
func TestInitWarnsAndWritesNoStaleVersion(t *testing.T) {
	for _, tc := range []struct {
		name     string
		files    map[string]string
		warnings []string
		version  string // the line about the version
	}{
		{"flask without gunicorn", map[string]string{"requirements.txt": "flask\n",
			"app.py": "from flask import Flask\napp = Flask(__name__)\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=5000)\n"},
			[]string{"warning: app.py:2: Flask application object app:app has no WSGI server in the dependencies: add gunicorn",
				"warning: app.py:5: the app binds port 5000 in its code and ignores $PORT"},
			`# the version is inferred at every build (git describe --tags, the pyproject version, else a content hash of the files); set version = "1.0.0" to pin one`},
		{"pyproject version", map[string]string{"pyproject.toml": "[project]\nname = \"svc\"\nversion = \"1.2.3\"\n", "main.py": "print(1)\n"},
			nil, `# version = "1.2.3"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := testsvc.WriteTree(t, tc.files)
			r := run(t, "init", dir)
			if r.code != 0 {
				t.Fatalf("init: exit %d: %s", r.code, r.err)
			}
			for _, w := range tc.warnings {
				if !strings.Contains(r.err, w) {
					t.Errorf("stderr %q lacks %q", r.err, w)
				}
			}
			if tc.warnings == nil && strings.Contains(r.err, "warning:") {
				t.Errorf("unexpected warnings: %q", r.err)
			}
			written, err := os.ReadFile(filepath.Join(dir, "pyship.toml"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(written), tc.version+"\n") || strings.Contains(string(written), "0.0.0+h") {
				t.Errorf("pyship.toml lacks %q or has a content-hash version:\n%s", tc.version, written)
			}
		})
	}
}

// TestInitRoundTrip: the spec init writes resolves to the same app as detection alone.
func TestInitRoundTrip(t *testing.T) {
	for _, name := range []string{"stdlib", "flask", "fastapi", "django", "worker"} {
		t.Run(name, func(t *testing.T) {
			dir := testsvc.CopyTree(t, example(t, name))
			before := run(t, "plan", "--output", "json", dir)
			r := run(t, "init", dir)
			if r.code != 0 {
				t.Fatalf("init: exit %d: %s", r.code, r.err)
			}
			written, err := os.ReadFile(filepath.Join(dir, "pyship.toml"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(written), "# detected from") {
				t.Errorf("pyship.toml has no 'detected from' comments:\n%s", written)
			}
			after := run(t, "plan", "--output", "json", dir)
			if after.code != 0 {
				t.Fatalf("plan after init: exit %d: %s\n%s", after.code, after.err, written)
			}
			var p1, p2 plan.Plan
			if err := json.Unmarshal([]byte(before.out), &p1); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(after.out), &p2); err != nil {
				t.Fatal(err)
			}
			if p2.SpecFile == "" {
				t.Errorf("plan after init does not read pyship.toml")
			}
			for _, p := range []*plan.Plan{&p1, &p2} {
				p.SpecFile, p.Evidence, p.Warnings, p.Version = "", nil, nil, ""
			}
			if !reflect.DeepEqual(p1, p2) {
				t.Errorf("plan changed by init:\nbefore %+v\nafter  %+v\nspec:\n%s", p1, p2, written)
			}
			again := run(t, "init", dir)
			if again.code != ExitUsage || !strings.Contains(again.err, "--force") {
				t.Errorf("second init: exit %d, stderr %q; want exit 2 mentioning --force", again.code, again.err)
			}
			if r := run(t, "init", "--force", dir); r.code != 0 {
				t.Errorf("init --force: exit %d: %s", r.code, r.err)
			}
		})
	}
}

func TestSpecErrorExit2WithPosition(t *testing.T) {
	dir := testsvc.CopyTree(t, example(t, "flask"))
	if err := os.WriteFile(filepath.Join(dir, "pyship.toml"), []byte("name = \"flask-app\"\n\n[run]\nprot = 8080\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "plan", dir)
	if r.code != ExitUsage {
		t.Fatalf("plan with a bad spec: exit %d, want 2", r.code)
	}
	if !strings.Contains(r.err, "pyship.toml:4:") || !strings.Contains(r.err, "port") {
		t.Errorf("stderr %q does not point at pyship.toml:4 and suggest port", r.err)
	}
}

func TestSchemaIsJSON(t *testing.T) {
	r := run(t, "schema")
	var v map[string]any
	if err := json.Unmarshal([]byte(r.out), &v); err != nil || r.code != 0 {
		t.Fatalf("schema: exit %d, %v", r.code, err)
	}
	if _, ok := v["properties"]; !ok {
		t.Errorf("schema has no properties: %.200s", r.out)
	}
}

func TestCompletion(t *testing.T) {
	r := run(t, "completion", "bash")
	if r.code != 0 || !strings.Contains(r.out, "__start_pyship") {
		t.Fatalf("completion bash: exit %d, %.100q", r.code, r.out)
	}
}

// TestFlagCompletions: --env completes the spec's overlays, --target, --strategy and --output
// their allowed values, on every command that has them.
func TestFlagCompletions(t *testing.T) {
	dir := testsvc.WriteTree(t, map[string]string{
		"pyship.toml": "name = \"svc\"\n[run]\ncommand = \"python main.py\"\n[env.prod.deploy]\nreplicas = 2\n[env.staging.run]\nworkers = 4\n",
		"main.py":     "print(1)\n",
	})
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"plan", dir, "--env", ""}, []string{"prod", "staging"}},
		{[]string{"check", dir, "--env", "st"}, []string{"prod", "staging"}}, // the shell filters by prefix
		{[]string{"build", dir, "--env", ""}, []string{"prod", "staging"}},
		{[]string{"deploy", "--target", ""}, []string{"local", "kubernetes"}},
		{[]string{"status", "--target", ""}, []string{"local", "kubernetes"}},
		{[]string{"deploy", "--strategy", ""}, []string{"rolling", "blue-green", "canary", "recreate"}},
		{[]string{"plan", "--output", ""}, []string{"text", "json"}},
		{[]string{"deploy", "--output", ""}, []string{"text", "json"}},
		{[]string{"backup", "list", "--output", ""}, []string{"text", "json"}},
		{[]string{"plan", filepath.Join(dir, "main.py"), "--env", ""}, nil}, // not a folder: the current one has no spec
	} {
		r := run(t, append([]string{"__complete"}, tc.args...)...)
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(r.out), "\n") {
			if l != "" && !strings.HasPrefix(l, ":") {
				got = append(got, l)
			}
		}
		if r.code != 0 || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("completing %q: exit %d, %q, want %q (stderr %q)", tc.args, r.code, got, tc.want, r.err)
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, name := range []string{"env", "target", "strategy", "output"} {
			if c.Flag(name) == nil {
				continue
			}
			if _, ok := c.GetFlagCompletionFunc(name); !ok {
				t.Errorf("%s --%s has no completion", c.CommandPath(), name)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(&streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}))
}

func TestReferenceCurrent(t *testing.T) {
	path := filepath.Join(testsvc.RepoRoot(t), "docs", "cli.md")
	got := Reference()
	if os.Getenv("PYSHIP_UPDATE_DOCS") != "" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(want, got) {
		t.Fatalf("docs/cli.md is stale: regenerate with PYSHIP_UPDATE_DOCS=1 go test ./internal/cli -run TestReferenceCurrent")
	}
}

func TestInitForceReplacesBrokenSpec(t *testing.T) {
	dir := testsvc.CopyTree(t, example(t, "flask"))
	bad := []byte("[run]\nport = \"x\"\n")
	if err := os.WriteFile(filepath.Join(dir, "pyship.toml"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "init", dir); r.code != ExitUsage {
		t.Fatalf("init over an existing spec: exit %d, want 2", r.code)
	}
	if r := run(t, "init", "--force", dir); r.code != 0 {
		t.Fatalf("init --force over a broken spec: exit %d: %s", r.code, r.err)
	}
	if r := run(t, "plan", dir); r.code != 0 {
		t.Fatalf("plan after init --force: exit %d: %s", r.code, r.err)
	}
}

func TestInitRefusesToolPyship(t *testing.T) {
	dir := testsvc.CopyTree(t, example(t, "fastapi"))
	f, err := os.OpenFile(filepath.Join(dir, "pyproject.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "\n[tool.pyship.deploy]\nreplicas = 2\n")
	f.Close()
	r := run(t, "init", dir)
	if r.code != ExitUsage || !strings.Contains(r.err, "[tool.pyship]") {
		t.Fatalf("init with [tool.pyship]: exit %d, stderr %q", r.code, r.err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pyship.toml")); err == nil {
		t.Errorf("init wrote pyship.toml beside [tool.pyship]")
	}
}

// An entry file that does not parse is not quietly classed as a worker: plan shows the syntax
// error as a warning and exits 1, in text and in JSON.
func TestPlanSaysTheEntryFileDoesNotParse(t *testing.T) {
	dir := testsvc.WriteTree(t, map[string]string{
		"requirements.txt": "flask\n",
		"main.py":          "import time\nwhile True:\n    print(\"tick\"\n    time.sleep(1)\n",
	})
	r := run(t, "plan", dir)
	if r.code != ExitFailure || !strings.Contains(r.out, "main.py:3:10: '(' was never closed: the entry file does not parse") {
		t.Errorf("plan: code %d, out %q, err %q", r.code, r.out, r.err)
	}
	r = run(t, "plan", "--output", "json", dir)
	var p struct{ Warnings []string }
	if err := json.Unmarshal([]byte(r.out), &p); err != nil || r.code != ExitFailure {
		t.Fatalf("plan --output json: code %d, %v: %s", r.code, err, r.out)
	}
	testsvc.WantOneWarning(t, p.Warnings, "main.py:3:10", "does not parse")
	// When detection fails too (a Flask app, no server in the dependencies), plan says both.
	noServer := testsvc.WriteTree(t, map[string]string{
		"requirements.txt": "flask\n",
		"app.py":           "from flask import Flask\napp = Flask(__name__\n",
	})
	if r := run(t, "plan", noServer); r.code != ExitFailure || !strings.Contains(r.err, "no WSGI server is in the dependencies") ||
		!strings.Contains(r.err, "app.py:2:12: '(' was never closed: and the project does not parse") {
		t.Errorf("plan of an unparsable app without a server: code %d, err %q", r.code, r.err)
	}
	// A clean project has no such warning and exits 0.
	if r := run(t, "plan", example(t, "stdlib")); r.code != ExitOK || strings.Contains(r.out, "does not parse") {
		t.Errorf("plan of a clean example: code %d, out %q", r.code, r.out)
	}
}

// Every flag's placeholder in help reads as a placeholder: one word (pflag takes the first
// `quoted` word of a usage as its name, so a command quoted there would render as
// "--plan pyship plan --output json"), and -o means --output wherever it exists.
func TestFlagHelpReadsRight(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			name, _ := pflag.UnquoteUsage(f)
			if strings.ContainsAny(name, " -") {
				t.Errorf("%s --%s renders its placeholder as %q: quote one word (`FILE`) or nothing", c.CommandPath(), f.Name, name)
			}
			if f.Shorthand == "o" && f.Name != "output" {
				t.Errorf("%s: -o is --%s here, --output elsewhere", c.CommandPath(), f.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(&streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}))
}

// A missing DIR, or a DIR that is a file, gets the same message and exit 2 from every verb
// that takes the project folder (1 from diff, whose 2 means changes); with --output json the
// error is a JSON object on stdout too.
func TestProjectDirMistakesSaidTheSameByEveryVerb(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.py")
	if err := os.WriteFile(file, []byte("print(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "nope")
	image := "--image=registry.example/web@sha256:" + strings.Repeat("1", 64)
	for _, verb := range [][]string{{"plan"}, {"check"}, {"init"}, {"build"}, {"dockerfile"}, {"deploy"}, {"render"}, {"diff"},
		{"plan", "--env", "all"}, {"drift"}, {"sbom"}, {"monitor", "render", "--output-dir", t.TempDir()},
		{"gitops", "push", "--repo", t.TempDir(), "--env", "prod", image}, {"backup", "list", "--dir"},
		{"backup", "now"}, {"backup", "list"}, {"backup", "verify", "latest"}, {"backup", "restore", "latest"},
		{"abort"}, {"promote"}, {"logs"}, {"stop"}, {"destroy"}, {"rollback"}, {"rollback", "r1"}, {"status"}} {
		for dir, want := range map[string]string{
			missing: "pyship: project folder " + missing + " does not exist: pass the folder of a Python project as DIR",
			file:    "pyship: " + file + " is a file, not a project folder: pass the folder that holds the project (" + filepath.Dir(file) + ")",
		} {
			r := run(t, append(verb, dir)...)
			code := ExitUsage
			if verb[0] == "diff" { // 2 means "changes" there: every error is 1, as with --detailed-exitcode
				code = ExitFailure
			}
			if r.code != code || !strings.HasPrefix(r.err, want) || strings.Count(r.err, "\n") != 1 {
				t.Errorf("pyship %s %s: exit %d, stderr %q; want exit %d and one line starting %q", strings.Join(verb, " "), dir, r.code, r.err, code, want)
			}
		}
	}
	r := run(t, "plan", "--output", "json", missing)
	var got jsonError
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || got.ExitCode != ExitUsage || !strings.Contains(got.Error, "does not exist") {
		t.Errorf("plan --output json of a missing DIR: stdout %q (%v)", r.out, err)
	}
}

// A verb refused for syntax errors says so on stdout too with --output json: an error object
// with exit code 1, like every other failure before a result.
func TestSyntaxErrorsAreAJSONErrorWithOutputJSON(t *testing.T) {
	dir := testsvc.WriteTree(t, map[string]string{
		"requirements.txt": "",
		"main.py":          "import broken\nprint('worker started')\n",
		"broken.py":        "def f(:\n    pass\n",
	})
	env := append(os.Environ(), "PYSHIP_HOME="+t.TempDir())
	for _, verb := range []string{"build", "deploy"} {
		var out, errb bytes.Buffer
		code := Main(context.Background(), []string{verb, "--output", "json", dir}, env, strings.NewReader(""), &out, &errb)
		var got jsonError
		if err := json.Unmarshal(out.Bytes(), &got); err != nil || code != ExitFailure || got.ExitCode != ExitFailure || !strings.Contains(got.Error, "1 syntax error") {
			t.Errorf("%s --output json of an app with a syntax error: exit %d, stdout %q (%v), stderr %q", verb, code, out.String(), err, errb.String())
		}
		if !strings.Contains(errb.String(), "broken.py:1:7: invalid syntax\n") {
			t.Errorf("%s: stderr does not give the error's place:\n%s", verb, errb.String())
		}
	}
}

// -o is --output in every verb that has it, and a value other than text or json is refused the
// same way by each, as the flag is parsed: exit 2 before the verb does anything.
func TestOutputFlagIsTheSameInEveryVerb(t *testing.T) {
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.Flag("output") != nil && c.Runnable() {
			paths = append(paths, path)
		}
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(newRootCmd(&streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}), nil)
	if len(paths) < 10 {
		t.Fatalf("only %d verbs with --output: %q", len(paths), paths)
	}
	for _, path := range paths {
		r := run(t, append(path, "-o", "yaml")...)
		want := `pyship: invalid argument "yaml" for "-o, --output" flag: unknown format "yaml" (allowed: text, json)`
		if r.code != ExitUsage || !strings.HasPrefix(r.err, want) || r.out != "" {
			t.Errorf("pyship %s -o yaml: exit %d, stdout %q, stderr %q; want exit 2 and %q", strings.Join(path, " "), r.code, r.out, r.err, want)
		}
	}
}

// A missing kubeconfig is named, and a cluster that does not answer is said with its server,
// context and file, by deploy before anything is built or pushed, and by the other verbs.
func TestKubernetesClusterProblemsSaidBeforeAnythingIsBuilt(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.kubeconfig")
	server := fmt.Sprintf("https://127.0.0.1:%d", testsvc.Port(t)) // reserved, nothing listens
	kc := filepath.Join(dir, "far.kubeconfig")
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " + server +
		"\ncontexts:\n- name: far\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: x\ncurrent-context: far\n"
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	project := example(t, "flask")
	for file, want := range map[string]string{
		missing: "the kubeconfig " + missing + " does not exist",
		kc:      "cannot reach the Kubernetes API server " + server + ` (context "far" of ` + kc + ")",
	} {
		for _, args := range [][]string{
			{"deploy", project, "--target", "kubernetes"},
			{"status", "--app", "web"},
			{"rollback", "--app", "web"},
			{"abort", "--app", "web"},
		} {
			r := run(t, append(args, "--kubeconfig", file)...)
			if r.code != ExitUsage || !strings.Contains(r.err, want) || strings.Contains(r.err, "building") || strings.Count(r.err, "\n") != 1 {
				t.Errorf("pyship %s --kubeconfig %s: exit %d, stderr %q; want exit 2 and only %q", strings.Join(args, " "), file, r.code, r.err, want)
			}
		}
	}
}

// On Kubernetes too the verbs act on the project in DIR: its spec chooses the target and the
// cluster ([deploy] target, [kubernetes] context), whatever the current folder holds.
func TestKubernetesVerbsReadTheSpecInDIR(t *testing.T) {
	near, far := fmt.Sprintf("https://127.0.0.1:%d", testsvc.Port(t)), fmt.Sprintf("https://127.0.0.1:%d", testsvc.Port(t)) // nothing listens
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: near\n  cluster:\n    server: " + near + "\n- name: far\n  cluster:\n    server: " + far +
		"\ncontexts:\n- name: near\n  context:\n    cluster: near\n    user: u\n- name: far\n  context:\n    cluster: far\n    user: u\nusers:\n- name: u\n  user:\n    token: x\ncurrent-context: near\n"
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := testsvc.WriteTree(t, map[string]string{
		"pyship.toml": "name = \"web\"\n[run]\ncommand = \"python app.py\"\n[deploy]\ntarget = \"kubernetes\"\n[kubernetes]\ncontext = \"far\"\n",
		"app.py":      "print(1)\n",
	})
	env := append(os.Environ(), "KUBECONFIG="+kc, "PYSHIP_HOME="+t.TempDir())
	want := "cannot reach the Kubernetes API server " + far + ` (context "far" of ` + kc + ")"
	for _, args := range [][]string{{"status", dir}, {"logs", dir}, {"abort", dir}, {"promote", dir}, {"stop", dir}, {"destroy", dir}, {"rollback", dir}, {"rollback", "r1", dir}} {
		var out, errb bytes.Buffer
		code := Main(context.Background(), args, env, strings.NewReader(""), &out, &errb)
		if code != ExitUsage || !strings.Contains(errb.String(), want) {
			t.Errorf("pyship %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(args, " "), code, errb.String(), want)
		}
	}
}

// A project pyship cannot run (no entry point found) is a problem the command found: exit 1
// from every verb that resolves it, as a broken spec is exit 2 from each.
func TestDetectionProblemsExitTheSameFromEveryVerb(t *testing.T) {
	noEntry := testsvc.WriteTree(t, map[string]string{"README.md": "nothing to run\n"})
	badSpec := testsvc.WriteTree(t, map[string]string{"pyship.toml": "[run]\nport = \"eighty\"\n", "main.py": "print(1)\n"})
	env := append(os.Environ(), "PYSHIP_HOME="+t.TempDir())
	for _, verb := range [][]string{{"plan"}, {"check"}, {"deploy"}, {"build"}, {"dockerfile"}, {"render"}} {
		for dir, want := range map[string]int{noEntry: ExitFailure, badSpec: ExitUsage} {
			var out, errb bytes.Buffer
			code := Main(context.Background(), append(verb, dir), env, strings.NewReader(""), &out, &errb)
			if code != want {
				t.Errorf("pyship %s %s: exit %d, want %d\n%s", verb[0], dir, code, want, errb.String())
			}
		}
	}
}

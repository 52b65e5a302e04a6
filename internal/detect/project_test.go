package detect

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/testsvc"
)

func TestPythonVersion(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  Fact[string]
		warn  string // a warning that must be given; "" when the version needs none
	}{
		{"python-version wins", map[string]string{".python-version": "# pinned\n3.12.4\n", "runtime.txt": "python-3.10.1\n",
			"pyproject.toml": "[project]\nrequires-python = \">=3.9\"\n"},
			Fact[string]{"3.12.4", Evidence{File: ".python-version", Line: 2, Rule: ".python-version"}}, ""},
		{"runtime.txt wins over requires-python, with a warning", map[string]string{"runtime.txt": "python-3.11.4\n", "pyproject.toml": "[project]\nrequires-python = \">=3.12\"\n"},
			Fact[string]{"3.11.4", Evidence{File: "runtime.txt", Line: 1, Rule: "runtime.txt"}},
			`runtime.txt:1: Python 3.11.4 does not satisfy requires-python ">=3.12" (pyproject.toml:2)`},
		{"python-version outside requires-python", map[string]string{".python-version": "3.12.1\n", "pyproject.toml": "[project]\nname = \"x\"\nrequires-python = \">=3.9,<3.11\"\n"},
			Fact[string]{"3.12.1", Evidence{File: ".python-version", Line: 1, Rule: ".python-version"}},
			`.python-version:1: Python 3.12.1 does not satisfy requires-python ">=3.9,<3.11" (pyproject.toml:3)`},
		{"minor satisfies a patch pin", map[string]string{".python-version": "3.10\n", "pyproject.toml": "[project]\nrequires-python = \"==3.10.4\"\n"},
			Fact[string]{"3.10", Evidence{File: ".python-version", Line: 1, Rule: ".python-version"}}, ""},
		{"excluded minor wildcard", map[string]string{".python-version": "3.11\n", "pyproject.toml": "[project]\nrequires-python = \">=3.9,!=3.11.*\"\n"},
			Fact[string]{"3.11", Evidence{File: ".python-version", Line: 1, Rule: ".python-version"}},
			`Python 3.11 does not satisfy requires-python ">=3.9,!=3.11.*"`},
		{"compatible release allows", map[string]string{".python-version": "3.10.2\n", "pyproject.toml": "[project]\nrequires-python = \"~=3.9\"\n"},
			Fact[string]{"3.10.2", Evidence{File: ".python-version", Line: 1, Rule: ".python-version"}}, ""},
		{"compatible release excludes", map[string]string{".python-version": "3.10.2\n", "pyproject.toml": "[project]\nrequires-python = \"~=3.9.1\"\n"},
			Fact[string]{"3.10.2", Evidence{File: ".python-version", Line: 1, Rule: ".python-version"}},
			`Python 3.10.2 does not satisfy requires-python "~=3.9.1"`},
		{"upper bound excludes", map[string]string{"runtime.txt": "python-3.13.0\n", "pyproject.toml": "[project]\nrequires-python = \"<=3.12.9,>3.8\"\n"},
			Fact[string]{"3.13.0", Evidence{File: "runtime.txt", Line: 1, Rule: "runtime.txt"}},
			`Python 3.13.0 does not satisfy requires-python "<=3.12.9,>3.8"`},
		{"poetry constraint", map[string]string{".python-version": "3.9\n", "pyproject.toml": "[tool.poetry.dependencies]\npython = \"^3.10\"\n"},
			Fact[string]{"3.9", Evidence{File: ".python-version", Line: 1, Rule: ".python-version"}},
			`.python-version:1: Python 3.9 does not satisfy [tool.poetry.dependencies] python ">=3.10,<4.0" (pyproject.toml:2)`},
		{"requires-python allows default", map[string]string{"pyproject.toml": "[project]\nname = \"x\"\nrequires-python = \">=3.8\"\n"},
			Fact[string]{"3.11", Evidence{File: "pyproject.toml", Line: 3, Rule: "requires-python allows the default 3.11"}}, ""},
		{"requires-python lowest allowed", map[string]string{"pyproject.toml": "[project]\nrequires-python = \">=3.12,<3.14\"\n"},
			Fact[string]{"3.12", Evidence{File: "pyproject.toml", Line: 2, Rule: "lowest minor allowed by requires-python"}}, ""},
		{"requires-python upper bound", map[string]string{"pyproject.toml": "[project]\nrequires-python = \"~=3.9.0\"\n"},
			Fact[string]{"3.9", Evidence{File: "pyproject.toml", Line: 2, Rule: "lowest minor allowed by requires-python"}}, ""},
		{"Pipfile requires", map[string]string{"Pipfile": "[packages]\n\n[requires]\npython_version = \"3.10\"\n"},
			Fact[string]{"3.10", Evidence{File: "Pipfile", Line: 4, Rule: "Pipfile [requires] python_version"}}, ""},
		{"poetry python", map[string]string{"pyproject.toml": "[tool.poetry.dependencies]\npython = \"^3.12\"\n"},
			Fact[string]{"3.12", Evidence{File: "pyproject.toml", Line: 2, Rule: "[tool.poetry.dependencies] python allows it"}}, ""},
		{"nothing", map[string]string{"main.py": ""}, Fact[string]{}, ""},
		{"bad python-version ignored", map[string]string{".python-version": "pypy3.10\n"}, Fact[string]{},
			`.python-version:1: "pypy3.10" is not a CPython version like 3.12 or 3.12.4; ignored`},
		{"python 2 in .python-version", map[string]string{".python-version": "2.7\n"}, Fact[string]{},
			`.python-version:1: Python 2.7 is not supported: pyship runs Python 3 apps`},
		{"python 2 in runtime.txt", map[string]string{"runtime.txt": "python-2.7.18\n"}, Fact[string]{},
			`runtime.txt:1: Python 2.7.18 is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := analyze(t, writeProject(t, "py", tt.files))
			if p.Python != tt.want {
				t.Errorf("python = %+v, want %+v", p.Python, tt.want)
			}
			testsvc.WantOneWarning(t, p.Warnings, tt.warn, "Python", "python")
		})
	}
}

func TestPickPython(t *testing.T) {
	tests := map[string]string{">=3.8": "3.11", ">=3.12": "3.12", "<3.11": "3.8", ">3.11": "3.11", "==3.10.*": "3.10",
		">=3.9,!=3.11.*": "3.9", ">=3.13": "3.13"}
	for in, want := range tests {
		if got, err := pickPython(in); err != nil || got != want {
			t.Errorf("pickPython(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{">=4", "python3"} {
		if _, err := pickPython(bad); err == nil {
			t.Errorf("pickPython(%q) succeeded, want an error", bad)
		}
	}
}

func TestNameAndVersion(t *testing.T) {
	tests := []struct {
		name    string
		folder  string
		files   map[string]string
		wantN   Fact[string]
		wantV   Fact[string]
		hashVer bool
	}{
		{"pep621", "whatever", map[string]string{"pyproject.toml": "[project]\nname = \"My_Cool.App\"\nversion = \"1.2.3\"\n"},
			Fact[string]{"my-cool-app", Evidence{File: "pyproject.toml", Line: 2, Rule: "pyproject.toml [project] name"}},
			Fact[string]{"1.2.3", Evidence{File: "pyproject.toml", Line: 3, Rule: "pyproject.toml [project] version"}}, false},
		{"poetry", "whatever", map[string]string{"pyproject.toml": "[tool.poetry]\nname = \"poet\"\nversion = \"0.4.0\"\n"},
			Fact[string]{"poet", Evidence{File: "pyproject.toml", Line: 2, Rule: "pyproject.toml [tool.poetry] name"}},
			Fact[string]{"0.4.0", Evidence{File: "pyproject.toml", Line: 3, Rule: "pyproject.toml [tool.poetry] version"}}, false},
		{"folder", "My_Project 2", map[string]string{"main.py": "print(1)\n"},
			Fact[string]{"my-project-2", Evidence{Rule: "project folder name"}}, Fact[string]{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := analyze(t, writeProject(t, tt.folder, tt.files))
			if p.Name != tt.wantN {
				t.Errorf("name = %+v, want %+v", p.Name, tt.wantN)
			}
			if tt.hashVer {
				if !regexp.MustCompile(`^0\.0\.0\+h[0-9a-f]{8}$`).MatchString(p.Version.Value) || !strings.HasPrefix(p.Version.Evidence.Rule, "content hash") {
					t.Errorf("version = %+v, want a content hash", p.Version)
				}
			} else if p.Version != tt.wantV {
				t.Errorf("version = %+v, want %+v", p.Version, tt.wantV)
			}
		})
	}
}

func TestContentHashChangesWithContent(t *testing.T) {
	a := analyze(t, writeProject(t, "a", map[string]string{"main.py": "print(1)\n"})).Version.Value
	b := analyze(t, writeProject(t, "a", map[string]string{"main.py": "print(2)\n"})).Version.Value
	c := analyze(t, writeProject(t, "a", map[string]string{"main.py": "print(1)\n", ".venv/pyvenv.cfg": "x", "__pycache__/x.pyc": "y"})).Version.Value
	if a == b {
		t.Errorf("content hash %s did not change with the content", a)
	}
	if a != c {
		t.Errorf("content hash %s changed (%s) with virtualenv or cache files", a, c)
	}
}

func TestGitDescribe(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := writeProject(t, "repo", map[string]string{"main.py": "print(1)\n", "pyproject.toml": "[project]\nname = \"r\"\nversion = \"9.9.9\"\n"})
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	// a repository without commits: git describe fails, pyproject version is used
	if v := analyze(t, dir).Version; v.Value != "9.9.9" {
		t.Errorf("version without commits = %+v, want 9.9.9 from pyproject.toml", v)
	}
	git("add", ".")
	git("commit", "-q", "-m", "first")
	git("tag", "v1.0.0")
	v := analyze(t, dir).Version
	if v.Value != "v1.0.0" || v.Evidence.Rule != "git describe --tags --always --dirty" {
		t.Errorf("version = %+v, want v1.0.0 from git describe", v)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.py"), []byte("print(2)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := analyze(t, dir).Version.Value; v != "v1.0.0-dirty" {
		t.Errorf("version after an edit = %q, want v1.0.0-dirty", v)
	}
}

func TestGitDescribeHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if v := gitDescribe(ctx, t.TempDir()); v != "" {
		t.Errorf("gitDescribe with a cancelled context = %q, want \"\"", v)
	}
}

func TestFolders(t *testing.T) {
	p := analyze(t, copyProject(t, "flask-gunicorn"))
	if p.ConfigDir.Value != "config" || p.DataDir.Value != "data" {
		t.Errorf("config, data = %q, %q; want config, data", p.ConfigDir.Value, p.DataDir.Value)
	}
	dir := copyProject(t, "worker")
	q := analyze(t, dir)
	if q.ConfigDir.Value != "" || q.DataDir.Value != "" {
		t.Errorf("worker has no config/ or data/, got %+v %+v", q.ConfigDir, q.DataDir)
	}
	// A data/ folder that git ignores is written at run time: data, though a checkout lacks it.
	if err := os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("*.log\n /data/ \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if d := analyze(t, dir).DataDir; d.Value != "data" || d.Evidence.File != ".gitignore" || d.Evidence.Line != 2 {
		t.Errorf("with /data/ in .gitignore: data = %+v, want data from .gitignore line 2", d)
	}
}

func TestAnalyzeBadDir(t *testing.T) {
	if _, err := Analyze(context.Background(), filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Analyze of a missing folder succeeded")
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := Analyze(context.Background(), f); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("Analyze of a file: %v", err)
	}
}

func TestDNSLabel(t *testing.T) {
	tests := map[string]string{"My_App": "my-app", "--x--": "x", "ÜberApp": "berapp", "": "app", "a.b.c": "a-b-c",
		strings.Repeat("a", 70): strings.Repeat("a", 63)}
	for in, want := range tests {
		if got := DNSLabel(in); got != want {
			t.Errorf("DNSLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCommands(t *testing.T) {
	split := []struct {
		in   string
		want []string
	}{
		{`gunicorn app:app --bind 0.0.0.0:$PORT`, []string{"gunicorn", "app:app", "--bind", "0.0.0.0:${PORT}"}},
		{`python -c "print('a b')" "$HOME/x" ${A}`, []string{"python", "-c", "print('a b')", "${HOME}/x", "${A}"}},
		{`a\ b ""`, []string{"a b", ""}},
	}
	for _, tt := range split {
		got, err := SplitCommand(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		back, err := SplitCommand(JoinCommand(got))
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Errorf("SplitCommand(JoinCommand(%q)) = %q via %q", got, back, JoinCommand(got))
		}
	}
	if got, _ := SplitCommand(`echo 'x $Y'`); !reflect.DeepEqual(got, []string{"echo", "x $Y"}) {
		t.Errorf("single quotes: %q", got)
	}
	if _, err := SplitCommand(`echo "open`); err == nil {
		t.Error("SplitCommand accepted an unterminated quote")
	}
	ports := []struct {
		argv    []string
		port    int
		usesEnv bool
	}{
		{[]string{"gunicorn", "-b", "0.0.0.0:5000", "app:app"}, 5000, false},
		{[]string{"gunicorn", "--bind=:7000", "app:app"}, 7000, false},
		{[]string{"uvicorn", "--port", "${PORT}", "main:app"}, 0, true},
		{[]string{"uvicorn", "--port=8080", "main:app"}, 8080, false},
		{[]string{"python", "manage.py", "runserver", "0.0.0.0:9000"}, 9000, false},
		{[]string{"python", "main.py"}, 0, false},
	}
	for _, tt := range ports {
		p, env := BindPort(tt.argv)
		if p != tt.port || env != tt.usesEnv {
			t.Errorf("BindPort(%q) = %d, %v; want %d, %v", tt.argv, p, env, tt.port, tt.usesEnv)
		}
	}
}

func TestTokenizeSkipsStringsAndComments(t *testing.T) {
	src := "x = 1  # app = Flask(__name__)\n" +
		"s = \"\"\"\napp = Flask(__name__)\n\"\"\"\n" +
		"t = f'{app}' \\\n    + r'\\d'\n" +
		"def f(\n    a,\n    b):\n    pass\n" +
		"y = 2\n"
	toks := tokenize(src)
	var firsts []string
	for _, tk := range toks {
		if tk.first {
			firsts = append(firsts, tk.text)
		}
		if tk.kind == tokName && tk.text == "Flask" {
			t.Errorf("Flask found as a name at line %d: comments and strings must be skipped", tk.line)
		}
	}
	if want := []string{"x", "s", "t", "def", "pass", "y"}; !reflect.DeepEqual(firsts, want) {
		t.Errorf("logical line starts = %q, want %q", firsts, want)
	}
	if last := toks[len(toks)-1]; last.text != "2" || last.line != 11 {
		t.Errorf("last token = %+v, want 2 at line 11", last)
	}
}

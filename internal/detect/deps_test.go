package detect

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/testsvc"
)

func TestDependencySources(t *testing.T) {
	tests := []struct {
		project  string
		source   string
		kind     string
		specs    []string
		others   []string
		pipOpts  []string
		evidence Evidence
		warnings []string
	}{
		{project: "reqs-includes", source: "requirements.txt", kind: "requirements",
			specs:    []string{"gunicorn==22.0.0", "click>=8", `Flask_Login[extras]>=0.6 ; python_version >= "3.8"`, "requests==2.32.3", "mypkg @ https://example.com/mypkg-1.0-py3-none-any.whl"},
			pipOpts:  []string{"--index-url", "https://pypi.example.com/simple", "--extra-index-url", "https://extra.example.com/simple", "--find-links", "./wheels"},
			evidence: Evidence{File: "requirements.txt", Rule: "requirements.txt; the only dependency source"},
			warnings: []string{`requirements.txt:11: editable requirement "."`, `requirements.txt:12: local or URL requirement "./vendor/localpkg"`,
				"requirements: requests (requirements.txt:8) has --hash but gunicorn (requirements/base.txt:1), click (requirements/common.txt:1), flask-login (requirements.txt:7), and 1 more have none: one hash turns on pip's require-hashes mode"}},
		{project: "uv", source: "uv.lock", kind: "uv",
			specs:    []string{"annotated-types==0.7.0", "colorama==0.4.6 ; sys_platform == 'win32'", "fastapi==0.115.0", "pydantic==2.9.2", "starlette==0.38.6", "uvicorn==0.30.6"},
			evidence: Evidence{File: "uv.lock", Rule: "uv.lock (pinned, without dev groups); the only dependency source"}},
		{project: "poetry", source: "poetry.lock", kind: "poetry",
			specs:    []string{"blinker==1.8.2", `colorama==0.4.6 ; platform_system == "Windows"`, "flask==3.0.3", "gunicorn==22.0.0"},
			evidence: Evidence{File: "poetry.lock", Rule: "poetry.lock (main group, pinned); the only dependency source"}},
		{project: "poetry-legacy", source: "poetry.lock", kind: "poetry",
			specs: []string{"certifi==2024.8.30", "requests==2.31.0"}},
		{project: "poetry-18", source: "poetry.lock", kind: "poetry",
			specs: []string{"certifi==2024.8.30", "requests==2.32.3"}},
		{project: "poetry-nolock", source: "pyproject.toml", kind: "poetry",
			specs:    []string{"fastapi>=0.110.2,<0.111.0", "uvicorn[standard]>=0.29,<0.30", "pydantic==2.7.1", "httpx", `tomli>=2 ; python_version < "3.11"`},
			evidence: Evidence{File: "pyproject.toml", Line: 5, Rule: "pyproject.toml [tool.poetry.dependencies] (no poetry.lock); the only dependency source"},
			warnings: []string{"pyproject.toml:12: dependency local is a git, path"}},
		{project: "pipfile-lock", source: "Pipfile.lock", kind: "pipfile",
			specs: []string{"flask==3.0.3 ; python_version >= '3.8'", "gunicorn==22.0.0"}},
		{project: "pipfile", source: "Pipfile", kind: "pipfile",
			specs:    []string{"requests[socks]>=2.31", "click"},
			pipOpts:  []string{"--index-url", "https://nexus.example.com/simple", "--extra-index-url", "https://pypi.org/simple"},
			warnings: []string{"Pipfile:12: package mylib is a git, path or editable dependency"}},
		{project: "fastapi-src", source: "pyproject.toml", kind: "pep621",
			specs:    []string{"fastapi>=0.110", "uvicorn[standard]>=0.29"},
			evidence: Evidence{File: "pyproject.toml", Line: 5, Rule: "pyproject.toml [project].dependencies; the only dependency source"}},
		{project: "multi-deps", source: "uv.lock", kind: "uv",
			specs:  []string{"annotated-types==0.7.0", "colorama==0.4.6 ; sys_platform == 'win32'", "fastapi==0.115.0", "pydantic==2.9.2", "starlette==0.38.6", "uvicorn==0.30.6"},
			others: []string{"poetry.lock", "requirements.txt", "Pipfile"},
			evidence: Evidence{File: "uv.lock", Rule: "uv.lock (pinned, without dev groups); preferred over poetry.lock, requirements.txt, Pipfile (order: " +
				strings.Join(SourceOrder(), " > ") + ")"}},
		{project: "reqs-vs-pyproject", source: "requirements.txt", kind: "requirements",
			specs: []string{"flask==3.0.3"}, others: []string{"pyproject.toml"}},
		{project: "noentry", source: "requirements.txt", kind: "requirements", specs: []string{"requests"}},
	}
	for _, tt := range tests {
		t.Run(tt.project, func(t *testing.T) {
			p := analyze(t, copyProject(t, tt.project))
			d := p.Dependencies
			if d.Source != tt.source || d.Kind != tt.kind {
				t.Errorf("source, kind = %s, %s; want %s, %s", d.Source, d.Kind, tt.source, tt.kind)
			}
			if got := reqSpecs(d.Requirements); !reflect.DeepEqual(got, tt.specs) {
				t.Errorf("requirements =\n%q\nwant\n%q", got, tt.specs)
			}
			if !reflect.DeepEqual(d.Others, tt.others) {
				t.Errorf("others = %q, want %q", d.Others, tt.others)
			}
			if !reflect.DeepEqual(d.PipOptions, tt.pipOpts) {
				t.Errorf("pip options = %q, want %q", d.PipOptions, tt.pipOpts)
			}
			if tt.evidence.Rule != "" && d.Evidence != tt.evidence {
				t.Errorf("evidence = %+v\nwant %+v", d.Evidence, tt.evidence)
			}
			for _, w := range tt.warnings {
				if !hasWarning(p.Warnings, w) {
					t.Errorf("warnings %q lack %q", p.Warnings, w)
				}
			}
		})
	}
}

func TestRequirementDetails(t *testing.T) {
	p := analyze(t, copyProject(t, "reqs-includes"))
	byName := map[string]Requirement{}
	for _, r := range p.Dependencies.Requirements {
		byName[r.Name] = r
	}
	req := byName["requests"]
	if req.Version != "2.32.3" || !reflect.DeepEqual(req.Hashes, []string{
		"sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6",
		"sha256:55365417734eb18255590a9ff9eb97e9e1da868d4ccd6402399eaf68af20a760"}) {
		t.Errorf("requests = %+v, want version 2.32.3 and both hashes", req)
	}
	if _, ok := byName["flask-login"]; !ok {
		t.Errorf("Flask_Login not normalised to flask-login: %v", reqSpecs(p.Dependencies.Requirements))
	}
	if got := reqSpecs(p.Dependencies.Constraints); !reflect.DeepEqual(got, []string{"urllib3<3"}) {
		t.Errorf("constraints = %q, want [urllib3<3]", got)
	}
	uv := analyze(t, copyProject(t, "uv"))
	for _, r := range uv.Dependencies.Requirements {
		if r.Name == "annotated-types" && !reflect.DeepEqual(r.Hashes, []string{
			"sha256:aff07c09a53a08bc8cfccb9c85b05f1aa9a2a6f23728d790723543408344ce89",
			"sha256:1f02e8b43a8fbbc3f3e0d4f0f4bfc8131bcb4eebe8849b8e5c773f3a1c582a53"}) {
			t.Errorf("annotated-types hashes = %q", r.Hashes)
		}
		if r.Name == "pytest" || r.Name == "iniconfig" || r.Name == "uv-svc" {
			t.Errorf("uv.lock: %s must be left out (dev group or the project itself)", r.Name)
		}
	}
	pf := analyze(t, copyProject(t, "pipfile-lock"))
	if g := pf.Dependencies.Requirements[1]; g.Version != "22.0.0" || len(g.Hashes) != 2 {
		t.Errorf("Pipfile.lock gunicorn = %+v, want pinned 22.0.0 with 2 hashes", g)
	}
	if pf.Dependencies.PipOptions != nil {
		t.Errorf("pypi.org alone needs no pip options, got %q", pf.Dependencies.PipOptions)
	}
}

func TestBrokenDependencyFiles(t *testing.T) {
	tests := []struct {
		name  string
		dir   func(t *testing.T) string
		wants []string
	}{
		{"include cycle", func(t *testing.T) string { return copyProject(t, "reqs-cycle") },
			[]string{"extra.txt:2", "include cycle requirements.txt -> extra.txt -> requirements.txt", "remove one"}},
		{"missing include", func(t *testing.T) string { return copyProject(t, "reqs-missing") },
			[]string{"requirements.txt:3", "nothere.txt does not exist"}},
		{"include outside", func(t *testing.T) string {
			return writeProject(t, "out", map[string]string{"requirements.txt": "-r ../secret.txt\n"})
		}, []string{"requirements.txt:1", "outside the project"}},
		{"not a requirement", func(t *testing.T) string {
			return writeProject(t, "bad", map[string]string{"requirements.txt": "flask\n==1.0\n"})
		}, []string{"requirements.txt:2", "is not a requirement"}},
		{"bad pyproject", func(t *testing.T) string {
			return writeProject(t, "badtoml", map[string]string{"pyproject.toml": "[project]\nname = \n"})
		}, []string{"pyproject.toml:2", "invalid TOML"}},
		{"bad Pipfile.lock", func(t *testing.T) string {
			return writeProject(t, "badlock", map[string]string{"Pipfile.lock": "{", "Pipfile": ""})
		}, []string{"Pipfile.lock", "pipenv lock"}},
		{"bad Procfile", func(t *testing.T) string {
			return writeProject(t, "badproc", map[string]string{"Procfile": "web gunicorn app:app\n"})
		}, []string{"Procfile:1", "NAME: COMMAND"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Analyze(context.Background(), tt.dir(t))
			if err == nil {
				t.Fatal("Analyze succeeded, want an error")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestRequirementsHashes: hashes on some requirements but not all is a warning, since pip's
// require-hashes mode then refuses the install; all or none is fine.
func TestRequirementsHashes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		warn  string
	}{
		{"all hashed", map[string]string{"requirements.txt": "six==1.16.0 --hash=sha256:aa\nidna==3.7 \\\n  --hash=sha256:bb\n"}, ""},
		{"none hashed", map[string]string{"requirements.txt": "six==1.16.0\nidna==3.7\n"}, ""},
		{"one missing", map[string]string{"requirements.txt": "six==1.16.0 --hash=sha256:aa\n\nidna==3.7\n"},
			"requirements: six (requirements.txt:1) has --hash but idna (requirements.txt:3) has none"},
		{"missing in an include", map[string]string{"requirements.txt": "-r base.txt\nsix==1.16.0 --hash=sha256:aa\n", "base.txt": "a==1\nb==1\nc==1\nd==1\n"},
			"has --hash but a (base.txt:1), b (base.txt:2), c (base.txt:3), and 1 more have none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := analyze(t, writeProject(t, "h", tc.files))
			testsvc.WantOneWarning(t, p.Warnings, tc.warn, "hash")
		})
	}
}

func TestRequirementsLineSyntax(t *testing.T) {
	dir := writeProject(t, "syntax", map[string]string{"requirements.txt": "" +
		"# comment line\n" +
		"Django  >= 4.2 , < 5  # trailing comment\n" +
		"zope.interface==6.0\n" +
		"pkg==1.0#not-a-comment\n" +
		"-rother.txt\n" +
		"--pre\n",
		"other.txt": "six==1.16.0 --hash=sha256:aa \\\n  --hash=sha256:bb\n",
	})
	d := analyze(t, dir).Dependencies
	want := []string{"Django >= 4.2 , < 5", "zope.interface==6.0", "pkg==1.0#not-a-comment", "six==1.16.0"}
	if got := reqSpecs(d.Requirements); !reflect.DeepEqual(got, want) {
		t.Errorf("requirements = %q, want %q", got, want)
	}
	if d.Requirements[1].Name != "zope-interface" || d.Requirements[1].Version != "6.0" {
		t.Errorf("zope.interface = %+v", d.Requirements[1])
	}
	if got := d.Requirements[3].Hashes; !reflect.DeepEqual(got, []string{"sha256:aa", "sha256:bb"}) {
		t.Errorf("continued hashes = %q", got)
	}
	if !reflect.DeepEqual(d.PipOptions, []string{"--pre"}) {
		t.Errorf("pip options = %q", d.PipOptions)
	}
}

func TestPoetryConstraint(t *testing.T) {
	tests := map[string]string{
		"^1.2.3": ">=1.2.3,<2.0.0", "^0.2.3": ">=0.2.3,<0.3.0", "^0.0.3": ">=0.0.3,<0.0.4", "^2": ">=2,<3",
		"~1.2.3": ">=1.2.3,<1.3.0", "~1.2": ">=1.2,<1.3", "~1": ">=1,<2", "*": "", "1.2.3": "==1.2.3",
		">=1.0,<2.0": ">=1.0,<2.0", "1.2.*": "==1.2.*", "~=1.4": "~=1.4",
	}
	for in, want := range tests {
		got, err := poetryConstraint(in)
		if err != nil || got != want {
			t.Errorf("poetryConstraint(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := poetryConstraint("^1 || ^2"); err == nil {
		t.Error("poetryConstraint accepted ||")
	}
}

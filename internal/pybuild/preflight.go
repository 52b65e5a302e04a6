package pybuild

import (
	"context"
	"fmt"
	"strings"

	"github.com/pyship/pyship/internal/plan"
)

// CheckReport is what the pre-build check of an app found.
type CheckReport struct {
	// Files is the number of Python files compiled.
	Files int `json:"files"`
	// Python is the interpreter that compiled them, e.g. "python 3.11.7".
	Python string `json:"python"`
	// Errors are the syntax errors, sorted by file and line.
	Errors []SyntaxError `json:"errors"`
	// Notes are things the user should know about the check itself.
	Notes []string `json:"notes,omitempty"`
	// Problems are what stops the app being resolved, found alongside the syntax check (pyship
	// check fills it: no start command, an ASGI app without an ASGI server...). Any is a failure.
	Problems []string `json:"problems,omitempty"`
}

// ShipFiles lists the files that ship with the app of p: AppFiles less the build excludes
// and the persistent data folders (they are volumes, not app files).
func ShipFiles(p *plan.Plan) ([]string, error) {
	exclude := append([]string(nil), p.Build.Exclude...)
	for _, d := range p.Data {
		if d.Persistent {
			exclude = append(exclude, DataExcludes(d.Path)...)
		}
	}
	files, err := AppFiles(p.Dir, exclude)
	if err != nil {
		return nil, fmt.Errorf("listing the app's files: %w", err)
	}
	return files, nil
}

// CheckApp compiles every Python file that ships with the app of p, with the interpreter
// FindPython finds in env. Every build and deploy runs it first and refuses to go on when the
// report has errors.
func CheckApp(ctx context.Context, p *plan.Plan, env []string) (*CheckReport, error) {
	files, err := ShipFiles(p)
	if err != nil {
		return nil, err
	}
	py, ver, err := FindPython(ctx, p.Python.Version, env)
	if err != nil {
		return nil, err
	}
	rep := &CheckReport{Python: "python " + ver, Errors: []SyntaxError{}}
	for _, f := range files {
		if strings.HasSuffix(f, ".py") {
			rep.Files++
		}
	}
	if MajorMinor(ver) != MajorMinor(p.Python.Version) {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the app targets Python %s but the check ran with %s (%s): syntax that only one of them accepts may be misjudged", p.Python.Version, ver, py))
	}
	errs, err := Check(ctx, py, p.Dir, files)
	if err != nil {
		return nil, err
	}
	if errs != nil {
		rep.Errors = errs
	}
	return rep, nil
}

// CheckFiles compiles every Python file that ships with the app of p with the interpreter
// python: CheckApp's check for a caller that already has its interpreter (pyship build's
// --python).
func CheckFiles(ctx context.Context, p *plan.Plan, python string) ([]SyntaxError, error) {
	files, err := ShipFiles(p)
	if err != nil {
		return nil, err
	}
	return Check(ctx, python, p.Dir, files)
}

// SyntaxErrors is the error a build or deploy returns when the pre-build check failed.
type SyntaxErrors []SyntaxError

func (e SyntaxErrors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the app has %d syntax error(s); fix them and run 'pyship check':", len(e))
	for _, se := range e {
		b.WriteString("\n  " + se.String())
	}
	return b.String()
}

// CheckEntry compiles the file the start command of p runs or imports, the file detection
// read without Python's parser to decide the kind, framework and port; it returns that file's
// syntax errors (none when it parses, or when there is no entry file). It costs one
// interpreter start (FindPython's in env), so `pyship plan` can say that what it shows rests
// on a broken file.
func CheckEntry(ctx context.Context, p *plan.Plan, env []string) ([]SyntaxError, error) {
	if p.Run.Entrypoint == "" || !strings.HasSuffix(p.Run.Entrypoint, ".py") {
		return nil, nil
	}
	py, _, err := FindPython(ctx, p.Python.Version, env)
	if err != nil {
		return nil, err
	}
	return Check(ctx, py, p.Dir, []string{p.Run.Entrypoint})
}

package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/pybuild"
)

// checkReport is what the pre-build check found.
type checkReport struct {
	Files  int
	Python string
	Errors []pybuild.SyntaxError
	Notes  []string
}

// checkPlan compiles every Python file that ships with the app of p.
// TODO: move into pybuild once its API settles, so build and deploy share it.
func checkPlan(ctx context.Context, p *plan.Plan) (*checkReport, error) {
	exclude := append([]string(nil), p.Build.Exclude...)
	for _, d := range p.Data {
		if d.Persistent {
			exclude = append(exclude, pybuild.DataExcludes(d.Path)...)
		}
	}
	files, err := pybuild.AppFiles(p.Dir, exclude)
	if err != nil {
		return nil, fmt.Errorf("listing the app's files: %w", err)
	}
	py, ver, err := pybuild.FindPython(ctx, p.Python.Version)
	if err != nil {
		return nil, err
	}
	rep := &checkReport{Python: "python " + ver}
	for _, f := range files {
		if strings.HasSuffix(f, ".py") {
			rep.Files++
		}
	}
	if pybuild.MajorMinor(ver) != pybuild.MajorMinor(p.Python.Version) {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the app targets Python %s but the check ran with %s (%s): syntax that only one of them accepts may be misjudged", p.Python.Version, ver, py))
	}
	rep.Errors, err = pybuild.Check(ctx, py, p.Dir, files)
	if err != nil {
		return nil, err
	}
	return rep, nil
}

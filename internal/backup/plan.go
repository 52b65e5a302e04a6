package backup

import (
	"path/filepath"
	"strings"

	"github.com/pyship/pyship/internal/plan"
)

// PlanSources returns a folder source for each persistent data folder of p (relative paths
// resolved against p.Dir), named after the folder ("data/uploads" → "data-uploads").
func PlanSources(p *plan.Plan) []Source {
	var out []Source
	for _, d := range p.Data {
		if !d.Persistent {
			continue
		}
		path := d.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(p.Dir, path)
		}
		name := strings.Trim(strings.NewReplacer("/", "-", "\\", "-", " ", "-").Replace(filepath.ToSlash(filepath.Clean(d.Path))), "-.")
		if name == "" {
			name = "data"
		}
		out = append(out, Source{Name: name, Kind: KindDir, Path: path})
	}
	return out
}

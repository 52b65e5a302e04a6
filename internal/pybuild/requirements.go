package pybuild

import (
	"strings"

	"github.com/pyship/pyship/internal/plan"
)

// PipInput is what pip installs for an app: the same for the local release's venv and for
// the image's dependency layer.
type PipInput struct {
	// Requirements is a requirements file: one PEP 508 line per requirement, with its
	// --hash options when the source had hashes (pip then checks every download).
	Requirements string
	// Constraints is a constraints file (pip -c), "" when there are none.
	Constraints string
	// Args are the pip options the dependency source gives (--index-url URL, --pre...).
	Args []string
	// Dir is the folder pip runs in, so that relative paths in Args (--find-links ./wheels)
	// are the project's; "" is the current folder.
	Dir string
}

// PipInputFor turns the resolved dependencies of a plan into pip's input.
func PipInputFor(d plan.Dependencies) PipInput {
	return PipInput{
		Requirements: requirementLines(d.Requirements),
		Constraints:  requirementLines(d.Constraints),
		Args:         append([]string(nil), d.PipOptions...),
	}
}

// Empty reports whether there is nothing to install.
func (in PipInput) Empty() bool { return in.Requirements == "" }

func requirementLines(reqs []plan.Requirement) string {
	var b strings.Builder
	for _, r := range reqs {
		b.WriteString(r.Spec)
		for _, h := range r.Hashes {
			b.WriteString(" --hash=" + h)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

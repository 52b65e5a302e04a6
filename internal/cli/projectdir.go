package cli

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/pyship/pyship/internal/plan"
)

// projectDirArg takes the project folder DIR from args, after the n arguments the verb takes
// first (a backup ID, a release), and returns DIR ("" when not given) and those arguments:
// `pyship stop DIR`, `pyship backup verify latest DIR`, as every verb takes DIR. A missing DIR,
// or a file, is said as every verb says it (plan.ProjectDirError).
func projectDirArg(args []string, n int) (dir string, rest []string, err error) {
	if len(args) <= n {
		return "", args, nil
	}
	if err := plan.CheckProjectDir(args[n]); err != nil {
		return "", nil, err
	}
	return args[n], args[:n], nil
}

// namesFolder reports whether arg, given where a name (a release, an image) or a project
// folder may stand, names a folder: an existing folder, or a path (absolute, ".", "..",
// "./...", "../...") whether it exists or not, so that a mistyped path is said to be one.
func namesFolder(arg string) bool {
	if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
		return true
	}
	return filepath.IsAbs(arg) || arg == "." || arg == ".." || strings.HasPrefix(arg, "./") || strings.HasPrefix(arg, "../")
}

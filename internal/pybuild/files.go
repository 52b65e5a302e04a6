package pybuild

import (
	"io/fs"
	"path/filepath"
	"sort"
)

// AppFiles lists the files of the app in dir that ship with it, as sorted slash-separated paths
// relative to dir. It honours .gitignore and .dockerignore plus extra gitignore-style patterns,
// and never includes .git, virtualenvs, __pycache__, .env files or other secrets.
//
// TODO(issue 2): this stub only skips the fixed names; ignore files are not read yet.
func AppFiles(dir string, exclude []string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && p != dir && (name == ".git" || name == ".venv" || name == "venv" || name == "__pycache__" || name == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || name == ".env" {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(files)
	return files, err
}

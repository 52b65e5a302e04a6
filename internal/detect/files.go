package detect

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// skippedDirs are folders that never hold the app's own source.
var skippedDirs = map[string]bool{
	".git": true, ".hg": true, ".svn": true, ".venv": true, "venv": true, "env": true,
	"__pycache__": true, "node_modules": true, ".tox": true, ".nox": true, ".mypy_cache": true,
	".pytest_cache": true, ".ruff_cache": true, "site-packages": true, "build": true, "dist": true,
	".eggs": true, ".idea": true, ".vscode": true,
}

// maxFiles bounds how many files a project walk visits.
const maxFiles = 20000

// listFiles lists the project's files as sorted slash-separated relative paths, skipping
// virtualenvs, VCS folders and caches.
func listFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && (skippedDirs[d.Name()] || isVirtualenv(p)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		if len(files) > maxFiles {
			return fmt.Errorf("project folder %s holds more than %d files: run pyship in the app's own folder", dir, maxFiles)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing project files: %w", err)
	}
	sort.Strings(files)
	return files, nil
}

// isVirtualenv reports whether folder p is a virtualenv (it has pyvenv.cfg).
func isVirtualenv(p string) bool { return isFile(filepath.Join(p, "pyvenv.cfg")) }

// isTestFile reports whether rel is a test module or lives in a tests folder.
func isTestFile(rel string) bool {
	base := pathBase(rel)
	if strings.HasPrefix(base, "test_") || strings.HasSuffix(base, "_test.py") || base == "conftest.py" {
		return true
	}
	for _, part := range strings.Split(rel, "/") {
		if part == "tests" || part == "test" || part == "migrations" || part == "docs" || part == "examples" {
			return true
		}
	}
	return false
}

func pathBase(rel string) string {
	if i := strings.LastIndex(rel, "/"); i >= 0 {
		return rel[i+1:]
	}
	return rel
}

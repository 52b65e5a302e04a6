package pybuild

import (
	"os"
	"path/filepath"
	"strings"
)

// neverShip reports whether a file or folder called name is left out whatever the ignore files
// say: version control, virtualenvs, caches, editor settings, other ecosystems' dependencies,
// pyship's own state, OS litter and credentials. .env.example, .env.sample and .env.template
// hold no secrets by convention and do ship.
func neverShip(name string, isDir bool) bool {
	switch name {
	case ".git", ".env":
		return true
	}
	if isDir {
		switch name {
		case ".hg", ".svn",
			".venv", "venv",
			"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".ipynb_checkpoints",
			"node_modules", ".idea", ".vscode",
			".pyship":
			return true
		}
		return false
	}
	switch name {
	case ".DS_Store", ".netrc", ".pypirc":
		return true
	case ".env.example", ".env.sample", ".env.template":
		return false
	}
	if strings.HasPrefix(name, ".env.") {
		return true
	}
	for _, prefix := range []string{"id_rsa", "id_ed25519", "id_ecdsa", "id_dsa"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	switch filepath.Ext(name) {
	case ".pyc", ".pyo", ".pem", ".key":
		return true
	}
	return false
}

// isVirtualenv reports whether the folder dir is a virtualenv (it holds pyvenv.cfg), whatever
// its name ("env", ".venv-3.11").
func isVirtualenv(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, "pyvenv.cfg"))
	return err == nil
}

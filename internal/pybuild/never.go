package pybuild

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// NeverShipRules are the names that never ship with an app, whatever the ignore files say:
// version control, virtualenvs, caches, editor settings, other ecosystems' dependencies,
// pyship's own state, OS litter and credentials. AppFiles applies them; `pyship dockerfile`
// turns them into the cleanup of its source stage, so that both ship the same files.
type NeverShipRules struct {
	// Names never ship, as files or folders.
	Names []string
	// Dirs are folder names that never ship (nor a symbolic link of that name).
	Dirs []string
	// Files are file names that never ship.
	Files []string
	// FilePrefixes and FileExts leave out the files whose names start or end so...
	FilePrefixes, FileExts []string
	// ...except these names, which hold no secrets by convention.
	Keep []string
	// VenvMarker is the file that makes a folder of any name a virtualenv, which never ships.
	VenvMarker string
}

// NeverShip returns the rules AppFiles applies.
func NeverShip() NeverShipRules {
	return NeverShipRules{
		Names: []string{".git", ".env"},
		Dirs: []string{".hg", ".svn",
			".venv", "venv",
			"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".ipynb_checkpoints",
			"node_modules", ".idea", ".vscode",
			".pyship"},
		Files:        []string{".DS_Store", ".netrc", ".pypirc"},
		FilePrefixes: []string{".env.", "id_rsa", "id_ed25519", "id_ecdsa", "id_dsa"},
		FileExts:     []string{".pyc", ".pyo", ".pem", ".key"},
		Keep:         []string{".env.example", ".env.sample", ".env.template"},
		VenvMarker:   "pyvenv.cfg",
	}
}

var neverShipRules = NeverShip()

// neverShip reports whether a file or folder called name is left out by neverShipRules.
func neverShip(name string, isDir bool) bool {
	r := neverShipRules
	if slices.Contains(r.Names, name) {
		return true
	}
	if isDir {
		return slices.Contains(r.Dirs, name)
	}
	if slices.Contains(r.Files, name) {
		return true
	}
	if slices.Contains(r.Keep, name) {
		return false
	}
	for _, prefix := range r.FilePrefixes {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return slices.Contains(r.FileExts, filepath.Ext(name))
}

// isVirtualenv reports whether the folder dir is a virtualenv (it holds pyvenv.cfg), whatever
// its name ("env", ".venv-3.11").
func isVirtualenv(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, neverShipRules.VenvMarker))
	return err == nil
}

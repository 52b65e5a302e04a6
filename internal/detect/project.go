package detect

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Evidence is where a detected fact comes from.
type Evidence struct {
	// File is relative to the project folder (slash-separated); Line is 1-based, 0 when the
	// rule is not about one line.
	File string
	Line int
	Rule string
}

// Fact is a detected value with its evidence. A zero Value means nothing was found.
type Fact[T any] struct {
	Value    T
	Evidence Evidence
}

// Project is what a project folder says about the app in it.
type Project struct {
	// Dir is the absolute project folder.
	Dir string
	// Name is the DNS-1123 label from pyproject.toml or the folder name.
	Name Fact[string]
	// Version is from git describe, pyproject.toml or a content hash.
	Version Fact[string]
	// Python is the Python version the project asks for ("" when it says nothing).
	Python Fact[string]
	// RequiresPython is the PEP 440 specifier set the project allows Python versions by:
	// [project] requires-python, else Poetry's python dependency ("" when neither says).
	RequiresPython Fact[string]
	Dependencies   Dependencies
	// Entry is the best start command found; nil when none was found (EntryErr says why).
	Entry    *Entry
	EntryErr error
	// App is the application object found in the source, if any, whatever the entry is.
	App *App
	// Procfile holds the Procfile processes ("web", "worker"...), if there is one.
	Procfile []ProcfileEntry
	// HealthPath is a health route found in the source ("" when none).
	HealthPath Fact[string]
	// PortEnv lists where the source reads $PORT.
	PortEnv []Evidence
	// ConfigDir and DataDir are the conventional folders when they exist ("" otherwise).
	ConfigDir Fact[string]
	DataDir   Fact[string]
	// Looked lists, in order, each place the entry point was looked for.
	Looked   []string
	Warnings []string
	// srcs are the scanned Python sources.
	srcs []*pyFile
}

// Analyze detects what the project in dir says about its app. It fails only when dir cannot
// be read or a dependency file that would be used is broken; a missing entry point is
// reported in EntryErr, because a spec may still declare one.
func Analyze(ctx context.Context, dir string) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving project folder %s: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("reading project folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("project folder %s is not a folder: pass the folder holding the app", abs)
	}
	p := &Project{Dir: abs}
	files, err := listFiles(abs)
	if err != nil {
		return nil, err
	}
	pp, err := readPyproject(abs)
	if err != nil {
		return nil, err
	}
	if err := p.detectDependencies(pp); err != nil {
		return nil, err
	}
	p.detectPython(pp)
	p.detectName(pp)
	if err := p.detectVersion(ctx, pp, files); err != nil {
		return nil, err
	}
	srcs, err := scanSources(abs, files)
	if err != nil {
		return nil, err
	}
	if err := p.detectEntry(pp, srcs); err != nil {
		return nil, err
	}
	p.detectFolders()
	return p, nil
}

// detectFolders finds config/ and data/. A data/ folder that the root .gitignore leaves out
// is data too: the app writes it at run time, so a fresh checkout does not have it yet.
func (p *Project) detectFolders() {
	if isDir(filepath.Join(p.Dir, "config")) {
		p.ConfigDir = Fact[string]{"config", Evidence{File: "config/", Rule: "config/ folder exists"}}
	}
	if isDir(filepath.Join(p.Dir, "data")) {
		p.DataDir = Fact[string]{"data", Evidence{File: "data/", Rule: "data/ folder exists"}}
	} else if line := gitignoreLine(filepath.Join(p.Dir, ".gitignore"), "data", "data/", "/data", "/data/"); line > 0 {
		p.DataDir = Fact[string]{"data", Evidence{File: ".gitignore", Line: line, Rule: "data/ is ignored by git (written at run time)"}}
	}
}

// gitignoreLine is the number of the first line of the ignore file p that is one of patterns
// (0 when none is, or p cannot be read).
func gitignoreLine(p string, patterns ...string) int {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0
	}
	for i, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		for _, pat := range patterns {
			if l == pat {
				return i + 1
			}
		}
	}
	return 0
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

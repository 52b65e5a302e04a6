package pybuild

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// AppFiles lists the files of the app in dir that ship with it, as sorted slash-separated paths
// relative to dir. It honours .gitignore and .dockerignore plus extra gitignore-style patterns,
// and never includes .git, virtualenvs, __pycache__, .env files or other secrets.
//
// Ignore rules, each able to leave a file out on its own:
//   - .gitignore files in dir and in any subfolder (gitignore(5): "!", "/x", "dir/", "**"),
//     and .git/info/exclude;
//   - dir/.dockerignore, with Docker's semantics (patterns relative to dir, "!" exceptions);
//   - exclude: gitignore-style patterns relative to dir (see DataExcludes);
//   - the names in neverShip, which no pattern can bring back.
//
// Symbolic links are listed themselves and never followed. Only regular files and links are
// listed, so empty folders are left out.
func AppFiles(dir string, exclude []string) ([]string, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("listing the app's files: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("listing the app's files: %s is not a folder; pass the app's source folder", dir)
	}
	w := &walker{root: dir, extra: parseGitignore("", exclude)}
	if lines, err := readLines(filepath.Join(dir, ".git", "info", "exclude")); err != nil {
		return nil, err
	} else if lines != nil {
		w.rootStack = append(w.rootStack, parseGitignore("", lines))
	}
	if err := w.loadDockerignore(); err != nil {
		return nil, err
	}
	if err := w.walk("", w.rootStack, patternmatcher.MatchInfo{}); err != nil {
		return nil, err
	}
	sort.Strings(w.files)
	return w.files, nil
}

// DataExcludes turns the app's persistent data folders ("data", "./var/uploads/") into
// patterns for AppFiles' exclude, anchored at the app root so that a folder of the same name
// deeper in the tree still ships. A pattern matches a folder, a file or a symbolic link at that
// path (data is often a link to a volume). Paths that are empty, "." or outside the app are
// skipped.
func DataExcludes(folders ...string) []string {
	var out []string
	for _, f := range folders {
		rel := path.Clean(strings.TrimLeft(filepath.ToSlash(strings.TrimSpace(f)), "/"))
		if f == "" || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
			continue
		}
		out = append(out, "/"+escapeGlob(rel))
	}
	return out
}

// escapeGlob escapes the characters that gitignore patterns treat specially.
func escapeGlob(p string) string {
	var b strings.Builder
	for _, c := range p {
		if strings.ContainsRune(`*?[]\!# `, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// walker collects the app's files.
type walker struct {
	root      string
	rootStack []*ignoreFile // ignore files that apply before the root's .gitignore
	extra     *ignoreFile
	docker    *patternmatcher.PatternMatcher // nil without a .dockerignore
	files     []string
}

func (w *walker) loadDockerignore() error {
	p := filepath.Join(w.root, ".dockerignore")
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", p, err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return fmt.Errorf("reading %s: %w", p, err)
	}
	if len(patterns) == 0 {
		return nil
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return fmt.Errorf("%s: %w; fix or remove that line", p, err)
	}
	w.docker = pm
	return nil
}

// walk lists folder rel (slash-separated, "" for the root) with the gitignore files that apply
// to it and the .dockerignore results of the folder.
func (w *walker) walk(rel string, stack []*ignoreFile, dockerInfo patternmatcher.MatchInfo) error {
	abs := filepath.Join(w.root, filepath.FromSlash(rel))
	lines, err := readLines(filepath.Join(abs, ".gitignore"))
	if err != nil {
		return err
	}
	if lines != nil {
		stack = append(stack[:len(stack):len(stack)], parseGitignore(rel, lines))
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return fmt.Errorf("listing the app's files: %w; make the folder readable or exclude it in .dockerignore", err)
	}
	for _, e := range entries {
		name := e.Name()
		typ := e.Type()
		isDir := typ.IsDir()
		if !isDir && !typ.IsRegular() && typ&fs.ModeSymlink == 0 {
			continue // sockets, pipes, devices
		}
		// A link named like a folder that never ships (venv -> /opt/venv) is left out too.
		if neverShip(name, isDir) || typ&fs.ModeSymlink != 0 && neverShip(name, true) {
			continue
		}
		p := name
		if rel != "" {
			p = rel + "/" + name
		}
		if isDir && isVirtualenv(filepath.Join(abs, name)) {
			continue
		}
		if ignoredBy(stack, p, isDir) {
			continue
		}
		if _, ignored := w.extra.match(p, isDir); ignored {
			continue
		}
		var info patternmatcher.MatchInfo
		if w.docker != nil {
			var dockerIgnored bool
			dockerIgnored, info, err = w.docker.MatchesUsingParentResults(p, dockerInfo)
			if err != nil {
				return fmt.Errorf("matching %s against .dockerignore: %w", p, err)
			}
			if dockerIgnored && (!isDir || !w.dockerMayReinclude(p)) {
				continue
			}
		}
		if isDir {
			if err := w.walk(p, stack, info); err != nil {
				return err
			}
			continue
		}
		w.files = append(w.files, p)
	}
	return nil
}

// dockerMayReinclude reports whether a "!" exception in .dockerignore may bring back a path
// inside the excluded folder dir, in which case the folder is still walked (as Docker does).
func (w *walker) dockerMayReinclude(dir string) bool {
	if !w.docker.Exclusions() {
		return false
	}
	for _, p := range w.docker.Patterns() {
		if p.Exclusion() && strings.HasPrefix(filepath.ToSlash(p.String())+"/", dir+"/") {
			return true
		}
	}
	return false
}

// readLines reads a text file's lines; a missing file (or a folder in its place) gives nil.
func readLines(p string) ([]string, error) {
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	lines := strings.Split(string(b), "\n")
	return lines, nil
}

package detect

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// gitTimeout bounds each git command run to find the version.
const gitTimeout = 3 * time.Second

// detectVersion finds the app version: git describe > pyproject version > content hash.
func (p *Project) detectVersion(ctx context.Context, pp *pyproject, files []string) error {
	if v := gitDescribe(ctx, p.Dir); v != "" {
		p.Version = Fact[string]{v, Evidence{Rule: "git describe --tags --always --dirty"}}
		return nil
	}
	if pp != nil && pp.Project.Version != "" {
		p.Version = Fact[string]{pp.Project.Version, Evidence{File: "pyproject.toml", Line: tomlLine(pp.text, "project", "version"), Rule: "pyproject.toml [project] version"}}
		return nil
	}
	if pp != nil && pp.Tool.Poetry.Version != "" {
		p.Version = Fact[string]{pp.Tool.Poetry.Version, Evidence{File: "pyproject.toml", Line: tomlLine(pp.text, "tool.poetry", "version"), Rule: "pyproject.toml [tool.poetry] version"}}
		return nil
	}
	h, err := contentHash(p.Dir, files)
	if err != nil {
		return err
	}
	p.Version = Fact[string]{"0.0.0+h" + h, Evidence{Rule: "content hash of the project files (no git, no pyproject version)"}}
	return nil
}

// gitDescribe runs git describe in dir; "" when git is absent, dir is not in a work tree or
// the repository has no commit.
func gitDescribe(ctx context.Context, dir string) string {
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "describe", "--tags", "--always", "--dirty")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "" // no git, not a work tree, no commit or too slow: fall back quietly
	}
	return strings.TrimSpace(out.String())
}

// contentHash is a short hash of the project files' paths and contents.
func contentHash(dir string, files []string) (string, error) {
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			return "", fmt.Errorf("hashing project files: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:8], nil
}

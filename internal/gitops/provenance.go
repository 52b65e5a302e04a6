package gitops

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/pyship/pyship/internal/plan"
)

// PlanHash is the sha256 of the plan's JSON with its machine-local paths taken out (the
// project folder, and the spec and secrets files made relative to it), so the same project
// gives the same hash on any machine.
func PlanHash(p *plan.Plan) (string, error) {
	q := *p
	q.SpecFile = relativeTo(p.Dir, p.SpecFile)
	q.SecretsFile = relativeTo(p.Dir, p.SecretsFile)
	q.Dir = ""
	return jsonDigest(q)
}

// jsonDigest is "sha256:" and the hex sha256 of v's JSON (maps sorted: deterministic).
func jsonDigest(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("hashing: %w", err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

func relativeTo(dir, file string) string {
	if dir == "" || file == "" || !filepath.IsAbs(file) {
		return file
	}
	if rel, err := filepath.Rel(dir, file); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.Base(file)
}

// SourceCommit is the HEAD commit of the Git work tree holding dir, and whether the work tree
// has changes; "" when dir is not in Git.
func SourceCommit(dir string) (string, bool, error) {
	if dir == "" {
		return "", false, nil
	}
	r, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading the project's Git repository: %w", err)
	}
	head, err := r.Head()
	if err != nil {
		return "", false, nil // no commit yet
	}
	w, err := r.Worktree()
	if err != nil {
		return head.Hash().String(), false, nil
	}
	st, err := w.Status()
	if err != nil {
		return "", false, fmt.Errorf("reading the project's Git status: %w", err)
	}
	return head.Hash().String(), !st.IsClean(), nil
}

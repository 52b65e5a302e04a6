package gitops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// snapshot opens the repository at the branch a publish to t would commit to: a local checkout
// as it is, a URL cloned into memory.
func snapshot(ctx context.Context, t Target) (*git.Repository, error) {
	if fi, err := os.Stat(t.Repo); err == nil && fi.IsDir() {
		r, err := git.PlainOpen(t.Repo)
		if err != nil {
			return nil, fmt.Errorf("opening the checkout %s: %w", t.Repo, err)
		}
		return r, nil
	}
	to, err := t.Creds.forURL(t.Repo)
	if err != nil {
		return nil, err
	}
	r, _, err := cloneAt(ctx, Target{Repo: t.Repo, Base: t.Base, Creds: t.Creds}, to)
	return r, err
}

// ReadFile reads one file of the repository's branch (t.Base, default its default branch).
func ReadFile(ctx context.Context, t Target, file string) ([]byte, error) {
	r, err := snapshot(ctx, t)
	if err != nil {
		return nil, err
	}
	head, err := r.Head()
	if err != nil {
		return nil, fmt.Errorf("reading %s: the repository has no commit", file)
	}
	c, err := r.CommitObject(head.Hash())
	if err != nil {
		return nil, err
	}
	f, err := c.File(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s in %s: %w", file, Redact(t.Repo), err)
	}
	s, err := f.Contents()
	return []byte(s), err
}

// Rollback publishes a revert of the last commit that changed the folder dir: the folder gets
// back the content it had before that commit, in a new commit saying which it reverts (Git's
// history keeps both). It returns the reverted commit too.
func Rollback(ctx context.Context, t Target, dir string) (*Result, string, error) {
	dir, err := CleanPath(dir)
	if err != nil {
		return nil, "", err
	}
	r, err := snapshot(ctx, t)
	if err != nil {
		return nil, "", err
	}
	head, err := r.Head()
	if err != nil {
		return nil, "", fmt.Errorf("rolling back %s: the repository has no commit", dir)
	}
	log, err := r.Log(&git.LogOptions{From: head.Hash(), PathFilter: func(p string) bool { return strings.HasPrefix(p, dir+"/") }})
	if err != nil {
		return nil, "", err
	}
	last, err := log.Next()
	if errors.Is(err, io.EOF) {
		return nil, "", fmt.Errorf("rolling back %s: no commit changed it", dir)
	}
	if err != nil {
		return nil, "", err
	}
	parent, err := last.Parent(0)
	if err != nil {
		return nil, "", fmt.Errorf("rolling back %s: the commit %s that last changed it has no parent to go back to", dir, last.Hash)
	}
	files, err := folderAt(parent, dir)
	if err != nil {
		return nil, "", err
	}
	if len(files) == 0 {
		return nil, "", fmt.Errorf("rolling back %s: it did not exist before %s (its first deploy); delete the folder to undeploy", dir, last.Hash)
	}
	subject, _, _ := strings.Cut(last.Message, "\n")
	t.Message = fmt.Sprintf("Revert %q\n\nThis reverts commit %s.\n", subject, last.Hash)
	res, err := Publish(ctx, t, []Change{{Path: dir, Files: files}})
	return res, last.Hash.String(), err
}

// folderAt returns the files directly in dir in the commit's tree (none when it has no dir).
func folderAt(c *object.Commit, dir string) (Files, error) {
	tree, err := c.Tree()
	if err != nil {
		return nil, err
	}
	sub, err := tree.Tree(dir)
	if errors.Is(err, object.ErrDirectoryNotFound) {
		return Files{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s at %s: %w", dir, c.Hash, err)
	}
	files := Files{}
	for _, e := range sub.Entries {
		if !e.Mode.IsFile() {
			return nil, fmt.Errorf("rolling back %s: it holds %s, which is not a file pyship writes", dir, path.Join(dir, e.Name))
		}
		f, err := sub.TreeEntryFile(&e)
		if err != nil {
			return nil, err
		}
		s, err := f.Contents()
		if err != nil {
			return nil, err
		}
		files[e.Name] = []byte(s)
	}
	return files, nil
}

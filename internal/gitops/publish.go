package gitops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-billy/v5/util"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/pyship/pyship/internal/clock"
)

// Change is one folder of the repository replaced by Files (every file of the folder not in
// Files is removed).
type Change struct {
	Path  string
	Files Files
	// Keep, when set, is asked about each file the folder already holds under a name Files
	// has; true keeps the old bytes (an encrypted file whose content did not change).
	Keep func(name string, old []byte) bool
}

// Target is where a Publish goes.
type Target struct {
	// Repo is a repository URL (https://, http://, ssh://, user@host:path, file://), cloned
	// into memory, committed to and pushed; or the folder of a local checkout, committed to
	// and not pushed.
	Repo string
	// Base is the branch to commit onto: default the remote's default branch (a new, empty
	// remote: "main"); in a local checkout, the checked-out branch.
	Base string
	// Branch, when set, is a new branch made from Base for this change alone (for a pull
	// request); when it exists already, the change goes on top of it.
	Branch string
	// Message is the commit message; Author signs the commit.
	Message string
	Author  object.Signature
	Creds   Credentials

	// Attempts bounds how often a push rejected because the remote moved is re-done on the
	// new tip (default 3).
	Attempts int
	// clock and beforePush let tests fix the time and move the remote between the clone and
	// the push.
	clock      clock.Clock
	beforePush func(attempt int)
}

// Result says what Publish did.
type Result struct {
	// Commit is the new commit; "" when the repository already held exactly these files.
	Commit string
	// Branch is the branch committed to; Pushed is set when it was pushed.
	Branch string
	Pushed bool
	// Retries counts pushes re-done on a remote that had moved.
	Retries int
}

// ErrDirty is returned for a local checkout with uncommitted changes.
var ErrDirty = errors.New("the checkout has uncommitted changes")

// Publish writes the changes into the repository as one commit and, for a URL, pushes it,
// never by force. When the remote branch moved since the clone, the changes are written again
// on its new tip (they are a pure function of their input, so this is the rebase) and pushed
// again, up to t.Attempts times; then it fails saying so. On any error nothing is pushed, and
// a local checkout is left as it was.
func Publish(ctx context.Context, t Target, changes []Change) (*Result, error) {
	if t.Message == "" || t.Author.Name == "" || t.Author.Email == "" {
		return nil, fmt.Errorf("publishing: a commit needs a message and an author's name and email")
	}
	for _, c := range changes {
		if _, err := CleanPath(c.Path); err != nil {
			return nil, err
		}
	}
	if fi, err := os.Stat(t.Repo); err == nil && fi.IsDir() {
		return publishLocal(t, changes)
	}
	return publishRemote(ctx, t, changes)
}

func publishRemote(ctx context.Context, t Target, changes []Change) (*Result, error) {
	to, err := t.Creds.forURL(t.Repo)
	if err != nil {
		return nil, err
	}
	attempts := t.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	res := &Result{}
	for attempt := 0; attempt < attempts; attempt++ {
		res.Retries = attempt
		r, branch, err := cloneAt(ctx, t, to)
		if err != nil {
			return nil, err
		}
		res.Branch = branch
		w, err := r.Worktree()
		if err != nil {
			return nil, err
		}
		commit, err := commitChanges(r, w, t, changes)
		if err != nil || commit == "" {
			return res, err
		}
		res.Commit = commit
		if t.beforePush != nil {
			t.beforePush(attempt)
		}
		spec := config.RefSpec("refs/heads/" + branch + ":refs/heads/" + branch)
		err = r.PushContext(ctx, &git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{spec}, Auth: to.auth, CABundle: to.caBundle})
		switch {
		case err == nil:
			res.Pushed = true
			return res, nil
		case strings.Contains(err.Error(), "non-fast-forward"):
			continue // the remote moved: write the changes again on its new tip
		default:
			return nil, remoteError("pushing to", t.Repo, to, err)
		}
	}
	return nil, fmt.Errorf("pushing to %s: the branch %s moved under each of %d attempts (someone else is pushing to it); nothing was pushed — run the command again", Redact(t.Repo), res.Branch, attempts)
}

// cloneAt clones the repository into memory and checks out the branch to commit to.
func cloneAt(ctx context.Context, t Target, to transportOptions) (*git.Repository, string, error) {
	r, err := git.CloneContext(ctx, memory.NewStorage(), memfs.New(), &git.CloneOptions{
		URL: t.Repo, Auth: to.auth, CABundle: to.caBundle, Tags: git.NoTags,
	})
	base := t.Base
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		if base == "" {
			base = "main"
		}
		if r, err = git.InitWithOptions(memory.NewStorage(), memfs.New(), git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(base)}); err != nil {
			return nil, "", err
		}
		if _, err := r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{t.Repo}}); err != nil {
			return nil, "", err
		}
		if t.Branch != "" {
			return nil, "", fmt.Errorf("the repository %s is empty: push once without --branch to make its %s branch, then changes can branch from it", Redact(t.Repo), base)
		}
		return r, base, nil
	}
	if err != nil {
		return nil, "", remoteError("cloning", t.Repo, to, err)
	}
	head, err := r.Head()
	if err != nil {
		return nil, "", fmt.Errorf("reading the default branch of %s: %w", Redact(t.Repo), err)
	}
	if base == "" {
		base = head.Name().Short()
	}
	branch := base
	if t.Branch != "" {
		branch = t.Branch
	}
	if head.Name().Short() == branch {
		return r, branch, nil
	}
	from, err := r.Reference(plumbing.NewRemoteReferenceName("origin", branch), true)
	if err != nil {
		if t.Branch == "" {
			return nil, "", fmt.Errorf("the repository %s has no branch %s (--base)", Redact(t.Repo), base)
		}
		if from, err = r.Reference(plumbing.NewRemoteReferenceName("origin", base), true); err != nil {
			return nil, "", fmt.Errorf("the repository %s has no branch %s to make the branch %s from (--base)", Redact(t.Repo), base, branch)
		}
	}
	w, err := r.Worktree()
	if err != nil {
		return nil, "", err
	}
	if err := w.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Hash: from.Hash(), Create: true}); err != nil {
		return nil, "", fmt.Errorf("checking out %s: %w", branch, err)
	}
	return r, branch, nil
}

// remoteError says what went wrong talking to a remote, and how to fix it.
func remoteError(doing, repo string, to transportOptions, err error) error {
	u := Redact(repo)
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed), strings.Contains(err.Error(), "unable to authenticate"):
		return fmt.Errorf("%s %s: the server rejected the credentials from %s: %w; fix them (see docs/gitops.md, credentials)", doing, u, to.source, err)
	case strings.Contains(err.Error(), "x509:"):
		return fmt.Errorf("%s %s: the server's TLS certificate is not trusted: %w; set $GIT_SSL_CAINFO (or $SSL_CERT_FILE) to its CA certificate", doing, u, err)
	case strings.Contains(err.Error(), "knownhosts: key is unknown"), strings.Contains(err.Error(), "knownhosts: key mismatch"):
		return fmt.Errorf("%s %s: the SSH server's host key is not in the known hosts ($SSH_KNOWN_HOSTS or ~/.ssh/known_hosts), or differs from the one recorded: %w; check it and add it with ssh-keyscan", doing, u, err)
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return fmt.Errorf("%s %s: no repository there: %w; check the URL (or the credentials: some servers hide what they refuse)", doing, u, err)
	case strings.Contains(err.Error(), "connection refused"), strings.Contains(err.Error(), "no such host"), strings.Contains(err.Error(), "i/o timeout"):
		return fmt.Errorf("%s %s: the server does not answer: %w; check the URL and that the server is up", doing, u, err)
	}
	return fmt.Errorf("%s %s: %w", doing, u, err)
}

// commitChanges writes the changes into the work tree and commits them; "" when the tree
// already held them.
func commitChanges(r *git.Repository, w *git.Worktree, t Target, changes []Change) (string, error) {
	for _, c := range changes { // every folder checked before any is written
		dir, err := CleanPath(c.Path)
		if err != nil {
			return "", err
		}
		if err := checkNoSymlinks(w.Filesystem, dir); err != nil {
			return "", err
		}
	}
	for _, c := range changes {
		if err := writeFolder(w.Filesystem, c); err != nil {
			return "", err
		}
		dir, _ := CleanPath(c.Path)
		if err := w.AddWithOptions(&git.AddOptions{Path: dir}); err != nil && !errors.Is(err, git.ErrGlobNoMatches) {
			return "", fmt.Errorf("staging %s: %w", dir, err)
		}
	}
	st, err := w.Status()
	if err != nil {
		return "", fmt.Errorf("reading the work tree's status: %w", err)
	}
	if st.IsClean() {
		return "", nil
	}
	sig := t.Author
	sig.When = clock.Or(t.clock).Now()
	h, err := w.Commit(t.Message, &git.CommitOptions{Author: &sig, Committer: &sig})
	if err != nil {
		return "", fmt.Errorf("committing: %w", err)
	}
	return h.String(), nil
}

// writeFolder replaces the folder c.Path with c.Files.
func writeFolder(fs billy.Filesystem, c Change) error {
	dir, err := CleanPath(c.Path)
	if err != nil {
		return err
	}
	if dir == "." {
		return fmt.Errorf("refusing to replace the whole repository: give a folder inside it")
	}
	if err := checkNoSymlinks(fs, dir); err != nil {
		return err
	}
	files := c.Files
	if c.Keep != nil {
		files = Files{}
		for n, b := range c.Files {
			files[n] = b
			if old, err := util.ReadFile(fs, path.Join(dir, n)); err == nil && c.Keep(n, old) {
				files[n] = old
			}
		}
	}
	if err := util.RemoveAll(fs, dir); err != nil {
		return fmt.Errorf("clearing %s: %w", dir, err)
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.Contains(n, "/") || n == "" || n == "." || n == ".." {
			return fmt.Errorf("writing %s: bad file name %q", dir, n)
		}
		if err := util.WriteFile(fs, path.Join(dir, n), files[n], 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", path.Join(dir, n), err)
		}
	}
	return nil
}

// checkNoSymlinks refuses a folder reached through a symbolic link in the repository: a link
// (e.g. apps -> /) would have pyship clear and write a folder outside it.
func checkNoSymlinks(fs billy.Filesystem, dir string) error {
	p := ""
	for _, part := range strings.Split(dir, "/") {
		p = path.Join(p, part)
		fi, err := fs.Lstat(p)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("checking %s: %w", p, err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("refusing to write %s: %s is a symbolic link in the repository, and could lead outside it", dir, p)
		}
	}
	return nil
}

// publishLocal commits the changes in a local checkout (not pushed). A checkout with
// uncommitted changes is refused; on an error after writing, the written folders are put back.
func publishLocal(t Target, changes []Change) (res *Result, err error) {
	r, err := git.PlainOpen(t.Repo)
	if err != nil {
		return nil, fmt.Errorf("opening the checkout %s: %w (give the folder at the root of a Git work tree, or a repository URL)", t.Repo, err)
	}
	w, err := r.Worktree()
	if err != nil {
		return nil, fmt.Errorf("opening the checkout %s: %w", t.Repo, err)
	}
	st, err := w.Status()
	if err != nil {
		return nil, fmt.Errorf("reading the status of %s: %w", t.Repo, err)
	}
	if !st.IsClean() {
		var files []string
		for f := range st {
			files = append(files, f)
		}
		sort.Strings(files)
		if len(files) > 5 {
			files = append(files[:5], "...")
		}
		return nil, fmt.Errorf("%w: %s (%s): commit or stash them first, so pyship's commit holds only its own files", ErrDirty, t.Repo, strings.Join(files, ", "))
	}
	head, err := r.Head()
	if err != nil && !errors.Is(err, plumbing.ErrReferenceNotFound) {
		return nil, fmt.Errorf("reading HEAD of %s: %w", t.Repo, err)
	}
	branch := ""
	if head != nil {
		branch = head.Name().Short()
	}
	if t.Base != "" && t.Base != branch {
		return nil, fmt.Errorf("the checkout %s is on branch %q, not %q (--base): check out %s first", t.Repo, branch, t.Base, t.Base)
	}
	if t.Branch != "" {
		if head == nil {
			return nil, fmt.Errorf("the checkout %s has no commit to branch from: commit once without --branch", t.Repo)
		}
		if err := w.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(t.Branch), Create: true}); err != nil {
			return nil, fmt.Errorf("making the branch %s in %s: %w", t.Branch, t.Repo, err)
		}
		branch = t.Branch
	}
	defer func() {
		if err == nil {
			return
		}
		// Put the checkout back: the written folders are removed, then the tracked files
		// restored from the commit the checkout was on (it was clean).
		for _, c := range changes {
			if dir, e := CleanPath(c.Path); e == nil && dir != "." && checkNoSymlinks(w.Filesystem, dir) == nil {
				_ = util.RemoveAll(w.Filesystem, dir)
			}
		}
		if head != nil {
			_ = w.Reset(&git.ResetOptions{Commit: head.Hash(), Mode: git.HardReset})
			if t.Branch != "" {
				_ = w.Checkout(&git.CheckoutOptions{Branch: head.Name()})
				_ = r.Storer.RemoveReference(plumbing.NewBranchReferenceName(t.Branch))
			}
		}
	}()
	commit, err := commitChanges(r, w, t, changes)
	if err != nil {
		return nil, err
	}
	return &Result{Commit: commit, Branch: branch}, nil
}

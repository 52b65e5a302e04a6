package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"filippo.io/age"
)

// RestoreOptions say what to restore where.
type RestoreOptions struct {
	// Sources names the sources to restore; empty restores all.
	Sources []string
	// To restores elsewhere instead of in place: a folder or SQLite file path, or a PostgreSQL
	// DSN, for one source (or a folder that receives one entry per source when several
	// folders/files are restored). Empty restores in place.
	To string
	// Identities decrypt the backup.
	Identities []age.Identity
	// Force lets a restore with To replace an existing file or non-empty folder (in place,
	// replacing is the point and needs no Force).
	Force bool
}

// RestoreResult is what a restore did.
type RestoreResult struct {
	ID       string            `json:"id"`
	Targets  map[string]string `json:"targets"` // source name → where it went
	Bytes    int64             `json:"bytes"`
	Duration time.Duration     `json:"duration"`
}

// Restore puts the sources of backup id back. Folders and SQLite files are first restored
// beside their target and checked against the manifest, then swapped in with a rename, so a
// corrupt or truncated backup never replaces good data. PostgreSQL is restored with
// pg_restore --single-transaction, killed before it can commit when the stream fails a check.
func (c *Client) Restore(ctx context.Context, id string, opts RestoreOptions) (*RestoreResult, error) {
	m, err := c.Find(ctx, id)
	if err != nil {
		return nil, err
	}
	recs, err := selectSources(m, opts.Sources)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	res := &RestoreResult{ID: m.ID, Targets: map[string]string{}}
	targets := make([]string, len(recs))
	for i, rec := range recs {
		to := opts.To
		if to == "" && rec.Kind == KindPostgres {
			to = c.sourceDSN(rec.Name) // in place: the configured database of that name
		}
		if targets[i], err = restoreTarget(rec, to, len(recs)); err != nil {
			return nil, err
		}
		if opts.To != "" && !opts.Force && rec.Kind != KindPostgres {
			if err := refuseToReplace(targets[i]); err != nil {
				return nil, fmt.Errorf("restoring backup %s, source %q: %w", m.ID, rec.Name, err)
			}
		}
	}
	for i, rec := range recs {
		target := targets[i]
		if err := c.restoreOne(ctx, m, rec, target, opts.Identities); err != nil {
			return nil, fmt.Errorf("restoring backup %s, source %q to %s: %w", m.ID, rec.Name, displayTarget(rec, target), err)
		}
		res.Targets[rec.Name] = displayTarget(rec, target)
		res.Bytes += rec.PlainSize
		c.progress(Event{Kind: "source", ID: m.ID, Source: rec.Name, Bytes: rec.PlainSize, Msg: "restored"})
	}
	res.Duration = time.Since(start)
	return res, nil
}

// ErrTargetExists is returned when a restore elsewhere would replace existing data.
var ErrTargetExists = errors.New("the restore target exists")

// refuseToReplace fails when target is a file, or a folder with something in it.
func refuseToReplace(target string) error {
	fi, err := os.Lstat(target)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		ents, err := os.ReadDir(target)
		if err != nil || len(ents) == 0 {
			return err
		}
		return fmt.Errorf("%w: %s is a folder with %d entries, which the restore would replace: choose an empty or new folder, or pass --force to replace it", ErrTargetExists, target, len(ents))
	}
	return fmt.Errorf("%w: %s exists, and the restore would replace it: choose another path, or pass --force to replace it", ErrTargetExists, target)
}

func (c *Client) sourceDSN(name string) string {
	for _, s := range c.cfg.Sources {
		if s.Name == name && s.Kind == KindPostgres {
			return s.DSN
		}
	}
	return ""
}

func displayTarget(rec SourceRecord, target string) string {
	if rec.Kind == KindPostgres {
		return redactDSN(target)
	}
	return target
}

func selectSources(m *Manifest, names []string) ([]SourceRecord, error) {
	if len(names) == 0 {
		return m.Sources, nil
	}
	var out []SourceRecord
	for _, n := range names {
		rec, ok := m.Source(n)
		if !ok {
			var have []string
			for _, s := range m.Sources {
				have = append(have, s.Name)
			}
			return nil, fmt.Errorf("backup %s has no source %q (it has %v)", m.ID, n, have)
		}
		out = append(out, rec)
	}
	return out, nil
}

func restoreTarget(rec SourceRecord, to string, n int) (string, error) {
	switch {
	case to == "" && rec.Kind == KindPostgres:
		return "", fmt.Errorf("restoring postgres source %q in place needs its DSN (the manifest keeps none with a password): configure a postgres source of that name or pass --to DSN", rec.Name)
	case to == "":
		return rec.Origin, nil
	case n == 1:
		return to, nil
	case rec.Kind == KindPostgres:
		return "", fmt.Errorf("--to %s names one place but several sources are restored: restore postgres source %q on its own with --source", to, rec.Name)
	}
	return filepath.Join(to, rec.Name), nil
}

func (c *Client) restoreOne(ctx context.Context, m *Manifest, rec SourceRecord, target string, ids []age.Identity) error {
	key := c.lay.object(m.ID, rec.Object)
	switch rec.Kind {
	case KindPostgres:
		return c.pgRestore(ctx, target, func(consume func(r io.Reader) error) error {
			return decryptFrom(ctx, c.store, key, rec, m.Recipients, ids, consume)
		})
	case KindDir, KindSQLite:
	default:
		return fmt.Errorf("unknown source kind %q", rec.Kind)
	}
	target, err := filepath.Abs(target)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.pyship-restore-%s", target, m.ID)
	// A folder that is a mount point (a Kubernetes volume, a disk of its own) cannot be
	// renamed, and its parent may be read-only: it is restored inside itself.
	inside := rec.Kind == KindDir && isMountPoint(target)
	if inside {
		tmp = filepath.Join(target, ".pyship-restore-"+m.ID)
	}
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if rec.Kind == KindDir {
		if err := os.Mkdir(tmp, 0o700); err != nil {
			return err
		}
		err = decryptFrom(ctx, c.store, key, rec, m.Recipients, ids, func(r io.Reader) error { return extractTree(ctx, r, tmp) })
	} else {
		err = decryptFrom(ctx, c.store, key, rec, m.Recipients, ids, func(r io.Reader) error { return writeFileSync(tmp, r) })
	}
	if err != nil {
		return err
	}
	if inside {
		return swapContents(tmp, target, m.ID)
	}
	return swapIn(tmp, target, m.ID, rec.Kind)
}

// isMountPoint tells whether dir is mounted on another device than its parent.
func isMountPoint(dir string) bool {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return false
	}
	pi, err := os.Stat(filepath.Dir(dir))
	if err != nil {
		return false
	}
	a, ok1 := fi.Sys().(*syscall.Stat_t)
	b, ok2 := pi.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && a.Dev != b.Dev
}

// swapContents replaces what the folder target holds with what its subfolder tmp holds: the
// current entries move into a subfolder aside, the restored ones move in, then the old ones
// are removed. Each move is a rename inside one file system; a failure moves everything back.
func swapContents(tmp, target, id string) error {
	old := filepath.Join(target, ".pyship-old-"+id)
	skip := map[string]bool{filepath.Base(tmp): true, filepath.Base(old): true}
	// An earlier try that died between its moves left the data aside: it goes back first,
	// and nothing aside is ever deleted before everything moved.
	if entries, err := os.ReadDir(old); err == nil {
		for _, e := range entries {
			if err := os.Rename(filepath.Join(old, e.Name()), filepath.Join(target, e.Name())); err != nil && !errors.Is(err, os.ErrExist) {
				return fmt.Errorf("putting back the data an interrupted restore left in %s: %w", old, err)
			}
		}
		if err := os.Remove(old); err != nil {
			return fmt.Errorf("an interrupted restore left data in %s that could not all be put back: %w", old, err)
		}
	}
	if err := os.Mkdir(old, 0o700); err != nil {
		return err
	}
	move := func(from, to string) ([]string, error) {
		entries, err := os.ReadDir(from)
		if err != nil {
			return nil, err
		}
		var moved []string
		for _, e := range entries {
			if skip[e.Name()] {
				continue
			}
			if err := os.Rename(filepath.Join(from, e.Name()), filepath.Join(to, e.Name())); err != nil {
				return moved, fmt.Errorf("restoring in place in %s: %w", target, err)
			}
			moved = append(moved, e.Name())
		}
		return moved, nil
	}
	back := func(names []string, from, to string) error {
		var errs []error
		for _, n := range names {
			errs = append(errs, os.Rename(filepath.Join(from, n), filepath.Join(to, n)))
		}
		return errors.Join(errs...)
	}
	failed := func(err error, undo ...func() error) error {
		for _, u := range undo {
			if uerr := u(); uerr != nil {
				return fmt.Errorf("%w; the data that was there is kept in %s (restore again to put it back, or move it back by hand)", err, old)
			}
		}
		_ = os.Remove(old)
		return err
	}
	aside, err := move(target, old)
	if err != nil {
		return failed(err, func() error { return back(aside, old, target) })
	}
	in, err := move(tmp, target)
	if err != nil {
		return failed(err, func() error { return back(in, target, tmp) }, func() error { return back(aside, old, target) })
	}
	if fi, err := os.Stat(tmp); err == nil {
		_ = os.Chmod(target, fi.Mode().Perm()) // the folder's own mode, as backed up
	}
	return os.RemoveAll(old)
}

// swapIn replaces target with the restored tmp: the old one is renamed aside, the new one
// renamed in, then the old one removed. For SQLite the old -wal and -shm files go too, or
// SQLite would replay them onto the restored file.
func swapIn(tmp, target, id string, kind Kind) error {
	old := fmt.Sprintf("%s.pyship-old-%s", target, id)
	_, err := os.Lstat(target)
	exists := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if exists {
		if err := os.RemoveAll(old); err != nil {
			return err
		}
		if err := os.Rename(target, old); err != nil {
			return fmt.Errorf("moving the current %s aside: %w", target, err)
		}
	}
	if kind == KindSQLite {
		for _, sfx := range []string{"-wal", "-shm", "-journal"} {
			if err := os.Remove(target + sfx); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		if exists {
			_ = os.Rename(old, target)
		}
		return fmt.Errorf("moving the restored data into %s: %w", target, err)
	}
	if exists {
		return os.RemoveAll(old)
	}
	return nil
}

// writeFileSync writes r to a new file p and syncs it.
func writeFileSync(p string, r io.Reader) error {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

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

	"github.com/pyship/pyship/internal/duration"

	"filippo.io/age"
)

// RestoreOptions say what to restore where.
type RestoreOptions struct {
	// Sources names the sources to restore; empty restores all.
	Sources []string
	// To restores elsewhere instead of in place: a folder or SQLite file path, or a PostgreSQL
	// DSN, for one source (or a folder that receives one entry per source when several
	// folders/files are restored). Empty restores in place: each source goes where the
	// configured source of the same name and kind is, never where the manifest says.
	To string
	// Identities decrypt the backup.
	Identities []age.Identity
	// Force lets a restore with To replace an existing file or non-empty folder (in place,
	// replacing is the point and needs no Force).
	Force bool
	// KeepSetID restores the setuid and setgid bits of folder entries (dropped otherwise).
	KeepSetID bool
}

// RestoreResult is what a restore did.
type RestoreResult struct {
	ID       string            `json:"id"`
	Created  time.Time         `json:"created"`
	Targets  map[string]string `json:"targets"` // source name → where it went
	Bytes    int64             `json:"bytes"`
	Duration duration.Duration `json:"duration"`
}

// Restore puts the sources of backup id back. The manifest's signature is checked first; then
// every source is restored into a private staging folder (beside its target, or inside it when
// the target is a mount point) and checked against the manifest's sizes and hashes; only when
// all passed are they swapped in with renames, so a corrupt, truncated or forged backup never
// replaces good data. A PostgreSQL source is downloaded and checked whole before pg_restore
// sees a byte of it.
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
	res := &RestoreResult{ID: m.ID, Created: m.Created, Targets: map[string]string{}}
	targets := make([]string, len(recs))
	for i, rec := range recs {
		if targets[i], err = c.restoreTarget(rec, opts.To, len(recs)); err != nil {
			return nil, fmt.Errorf("restoring backup %s: %w", m.ID, err)
		}
		if opts.To != "" && !opts.Force && rec.Kind != KindPostgres {
			if err := refuseToReplace(targets[i]); err != nil {
				return nil, fmt.Errorf("restoring backup %s, source %q: %w", m.ID, rec.Name, err)
			}
		}
	}
	if err := c.restoreAll(ctx, m, recs, targets, opts.Identities, opts.KeepSetID); err != nil {
		return nil, err
	}
	for i, rec := range recs {
		res.Targets[rec.Name] = displayTarget(rec, targets[i])
		res.Bytes += rec.PlainSize
	}
	res.Duration = duration.Duration(time.Since(start))
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

// configured returns the configured source of the name and kind of rec.
func (c *Client) configured(rec SourceRecord) (Source, bool) {
	for _, s := range c.cfg.Sources {
		if s.Name == rec.Name && s.Kind == rec.Kind {
			return s, true
		}
	}
	return Source{}, false
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

// restoreTarget is where rec goes: in place, the path or DSN of the configured source of the
// same name and kind (the manifest's origin is only information); with to, to itself for one
// source, or to/NAME (names are checked when the manifest is read) for several.
func (c *Client) restoreTarget(rec SourceRecord, to string, n int) (string, error) {
	switch {
	case to == "":
		src, ok := c.configured(rec)
		if !ok {
			return "", fmt.Errorf("source %q (%s) is not configured here, so it has no place to be restored in place (the backup says it came from %q, which pyship does not trust): configure a %s source named %q in [backup], or restore it elsewhere with --to", rec.Name, rec.Kind, truncName(rec.Origin), rec.Kind, rec.Name)
		}
		if rec.Kind == KindPostgres {
			return src.DSN, nil
		}
		return src.Path, nil
	case n == 1:
		return to, nil
	case rec.Kind == KindPostgres:
		return "", fmt.Errorf("--to %s names one place but several sources are restored: restore postgres source %q on its own with --only", to, rec.Name)
	}
	return filepath.Join(to, rec.Name), nil
}

// restoreAll stages every source of recs (restored and checked in a private folder, or for
// PostgreSQL downloaded and checked), then, only when all passed, puts each in its target.
func (c *Client) restoreAll(ctx context.Context, m *Manifest, recs []SourceRecord, targets []string, ids []age.Identity, keepSetID bool) error {
	var stages []*stage
	defer func() {
		for _, st := range stages {
			st.cleanup()
		}
	}()
	for i, rec := range recs {
		st, err := c.stage(ctx, m, rec, targets[i], ids, keepSetID)
		if st != nil {
			stages = append(stages, st)
		}
		if err != nil {
			return fmt.Errorf("restoring backup %s, source %q to %s: %w", m.ID, rec.Name, displayTarget(rec, targets[i]), err)
		}
	}
	for _, st := range stages {
		if err := c.apply(ctx, m, st, ids); err != nil {
			return fmt.Errorf("restoring backup %s, source %q to %s: %w", m.ID, st.rec.Name, displayTarget(st.rec, st.target), err)
		}
		c.progress(Event{Kind: "source", ID: m.ID, Source: st.rec.Name, Bytes: st.rec.PlainSize, Msg: "restored"})
	}
	return nil
}

// stage is a source restored and checked, ready to be put in place.
type stage struct {
	rec    SourceRecord
	target string
	// dir is the private staging folder (mode 0700, a fresh name); data is the restored folder
	// or file in it, or for PostgreSQL the checked ciphertext.
	dir, data string
	// inside is set when target is a mount point, and dir is inside it.
	inside bool
}

func (st *stage) cleanup() { _ = os.RemoveAll(st.dir) }

func (c *Client) stage(ctx context.Context, m *Manifest, rec SourceRecord, target string, ids []age.Identity, keepSetID bool) (*stage, error) {
	key := c.lay.object(m.ID, rec.Object)
	st := &stage{rec: rec, target: target}
	var err error
	switch rec.Kind {
	case KindPostgres:
		if st.dir, err = os.MkdirTemp("", "pyship-pgrestore-"); err != nil {
			return nil, err
		}
		st.data = filepath.Join(st.dir, "dump.zst.age")
		return st, c.fetchChecked(ctx, m, rec, st.data, ids)
	case KindDir, KindSQLite:
	default:
		return nil, fmt.Errorf("unknown source kind %q", rec.Kind)
	}
	if st.target, err = filepath.Abs(target); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(st.target), 0o755); err != nil {
		return nil, err
	}
	// A folder that is a mount point (a Kubernetes volume, a disk of its own) cannot be
	// renamed, and its parent may be read-only: it is staged inside itself.
	parent := filepath.Dir(st.target)
	if st.inside = rec.Kind == KindDir && isMountPoint(st.target); st.inside {
		parent = st.target
	}
	if st.dir, err = os.MkdirTemp(parent, ".pyship-restore-"); err != nil {
		return nil, err
	}
	st.data = filepath.Join(st.dir, "data")
	consume := func(r io.Reader) error { return writeFileSync(st.data, r) }
	if rec.Kind == KindDir {
		if err := os.Mkdir(st.data, 0o700); err != nil {
			return st, err
		}
		opts := extractOptions{Owners: os.Geteuid() == 0, KeepSetID: keepSetID}
		consume = func(r io.Reader) error { return extractTree(ctx, r, st.data, opts) }
	}
	return st, decryptFrom(ctx, c.store, key, rec, m.Recipients, ids, consume)
}

// fetchChecked downloads the object of rec to the new file dst and checks it whole (sizes and
// hashes of ciphertext and plaintext) before anything reads it for real.
func (c *Client) fetchChecked(ctx context.Context, m *Manifest, rec SourceRecord, dst string, ids []age.Identity) error {
	key := c.lay.object(m.ID, rec.Object)
	rc, _, err := c.store.Open(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	err = writeFileSync(dst, &sizeGuard{r: rc, max: rec.CipherSize, what: "stored object", key: key})
	if err != nil {
		return fmt.Errorf("downloading %s: %w", key, err)
	}
	return c.decryptFile(dst, key, m, rec, ids, discardAll)
}

func (c *Client) decryptFile(file, key string, m *Manifest, rec SourceRecord, ids []age.Identity, consume func(io.Reader) error) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	return decryptStream(f, key, rec, m.Recipients, ids, consume)
}

// apply puts a checked stage in its target.
func (c *Client) apply(ctx context.Context, m *Manifest, st *stage, ids []age.Identity) error {
	switch {
	case st.rec.Kind == KindPostgres:
		key := c.lay.object(m.ID, st.rec.Object)
		return c.pgRestore(ctx, st.target, func(consume func(r io.Reader) error) error {
			return c.decryptFile(st.data, key, m, st.rec, ids, consume)
		})
	case st.inside:
		return swapContents(st.dir, st.data, st.target, m.ID)
	}
	return swapIn(st.data, st.target, filepath.Join(st.dir, "old"), st.rec.Kind)
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

// swapContents replaces what the folder target holds with what tmp (in target's subfolder
// stageDir) holds: the current entries move into a subfolder aside, the restored ones move in,
// then the old ones are removed. Each move is a rename inside one file system; a failure
// moves everything back. id is a checked backup ID.
func swapContents(stageDir, tmp, target, id string) error {
	old := filepath.Join(target, ".pyship-old-"+id)
	skip := map[string]bool{filepath.Base(stageDir): true, filepath.Base(old): true}
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

// swapIn replaces target with the restored tmp: the old one is renamed aside to old (a new
// name in the private staging folder), the new one renamed in, then the old one removed. For
// SQLite the old -wal and -shm files of the configured target go too, or SQLite would replay
// them onto the restored file.
func swapIn(tmp, target, old string, kind Kind) error {
	_, err := os.Lstat(target)
	exists := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if exists {
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

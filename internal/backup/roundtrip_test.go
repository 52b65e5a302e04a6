package backup

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// makeTree builds a folder with many files of mixed sizes, modes, owners, symlinks, a hard
// link, empty files and folders, and fixed mtimes.
func makeTree(t *testing.T, root string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	modes := []os.FileMode{0o644, 0o600, 0o755, 0o640, 0o444, 0o700 | fs.ModeSetgid}
	for i := range 400 {
		dir := filepath.Join(root, fmt.Sprintf("d%02d", i%17), fmt.Sprintf("s%d", i%3))
		size := rng.IntN(4 << 10)
		if i%50 == 0 {
			size = 1<<20 + rng.IntN(3<<20) // a few files over a part of the stream
		}
		data := make([]byte, size)
		if i%2 == 0 {
			for j := range data {
				data[j] = byte(rng.IntN(256))
			}
		} else {
			copy(data, bytes.Repeat([]byte(fmt.Sprintf("line %d compressible\n", i)), size/20+1))
		}
		p := filepath.Join(dir, fmt.Sprintf("f%03d.bin", i))
		writeFile(t, p, data, modes[i%len(modes)])
		if i%7 == 0 {
			if err := os.Lchown(p, 1000+i%3, 1000+i%5); err != nil {
				t.Fatal(err)
			}
		}
	}
	writeFile(t, filepath.Join(root, "empty"), nil, 0o644)
	must(t, os.MkdirAll(filepath.Join(root, "emptydir", "nested"), 0o750))
	must(t, os.Symlink("d01/s1/f001.bin", filepath.Join(root, "rel-link")))
	must(t, os.Symlink("/etc/hostname", filepath.Join(root, "abs-link")))
	must(t, os.Symlink("missing-target", filepath.Join(root, "d03", "dangling")))
	must(t, os.Link(filepath.Join(root, "d02", "s2", "f002.bin"), filepath.Join(root, "hardlink")))
	must(t, os.Chmod(filepath.Join(root, "d05"), 0o711))
	// Fixed mtimes (with nanoseconds) everywhere, folders last.
	var paths []string
	must(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		paths = append(paths, p)
		return err
	}))
	sort.Sort(sort.Reverse(sort.StringSlice(paths)))
	for i, p := range paths {
		ts := time.Unix(1700000000+int64(i)*37, int64(i)*1234567)
		if fi, _ := os.Lstat(p); fi.Mode()&fs.ModeSymlink != 0 {
			continue
		}
		must(t, os.Chtimes(p, ts, ts))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// treeState describes every entry of a folder: type, mode, owner, mtime, content hash or
// link target.
func treeState(t *testing.T, root string) map[string]string {
	t.Helper()
	st := map[string]string{}
	must(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		sys := fi.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%v uid=%d gid=%d", fi.Mode(), sys.Uid, sys.Gid)
		if fi.Mode()&fs.ModeSymlink == 0 {
			desc += " mtime=" + fi.ModTime().UTC().Format(time.RFC3339Nano)
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			desc += " -> " + target
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" nlink=%d sha256=%x", sys.Nlink, sha256.Sum256(b))
		}
		st[rel] = desc
		return nil
	}))
	return st
}

func diffStates(t *testing.T, want, got map[string]string) {
	t.Helper()
	var diffs []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			diffs = append(diffs, "missing "+k)
		} else if g != w {
			diffs = append(diffs, fmt.Sprintf("%s: want %s, got %s", k, w, g))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, "extra "+k)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		if len(diffs) > 20 {
			diffs = diffs[:20]
		}
		t.Fatalf("restored tree differs (%d):\n%s", len(diffs), strings.Join(diffs, "\n"))
	}
}

func TestFolderRoundTrip(t *testing.T) {
	s := startS3(t)
	ctx := testCtx(t, 3*time.Minute)
	src := filepath.Join(t.TempDir(), "data")
	makeTree(t, src)
	want := treeState(t, src)
	if len(want) < 400 {
		t.Fatalf("test tree has only %d entries", len(want))
	}
	cfg, ids := testConfig(t, s, Source{Name: "data", Kind: KindDir, Path: src})
	c := newClient(t, cfg, WithVersion("test"))

	m, err := c.Now(ctx, NowOptions{Release: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	rec := m.Sources[0]
	if rec.PlainSize < 10<<20 || rec.CipherSize == 0 || len(rec.PlainSHA256) != 64 || len(rec.CipherSHA256) != 64 {
		t.Fatalf("manifest record looks wrong: %+v", rec)
	}
	l, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Backups) != 1 || l.Backups[0].ID != m.ID || l.Latest != m.ID || l.Backups[0].Release != "r1" || l.Backups[0].PyshipVersion != "test" {
		t.Fatalf("list = %+v, latest %q; want the one backup %s", l.Backups, l.Latest, m.ID)
	}

	// Restore elsewhere: byte-identical, with modes (setgid kept, as asked), owners, symlinks,
	// hard links and mtimes.
	to := filepath.Join(t.TempDir(), "restored")
	if _, err := c.Restore(ctx, "latest", RestoreOptions{To: to, Identities: ids, KeepSetID: true}); err != nil {
		t.Fatal(err)
	}
	diffStates(t, want, treeState(t, to))

	// Restore in place over changed data.
	must(t, os.WriteFile(filepath.Join(src, "d01", "s1", "f001.bin"), []byte("changed"), 0o644))
	must(t, os.Remove(filepath.Join(src, "rel-link")))
	writeFile(t, filepath.Join(src, "new-file"), []byte("new"), 0o644)
	if _, err := c.Restore(ctx, m.ID, RestoreOptions{Identities: ids, KeepSetID: true}); err != nil {
		t.Fatal(err)
	}
	diffStates(t, want, treeState(t, src))
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(src), "data.pyship-*"))
	if len(left) > 0 {
		t.Fatalf("restore left %v behind", left)
	}
}

package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"
)

// entry is one crafted archive entry.
type entry struct {
	name string
	typ  byte
	link string
	body string
	mode int64
}

// craftTar writes entries as a PAX tar exactly as given: names, types and link targets are not
// cleaned, as an attacker's archive would not be.
func craftTar(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: mode, Size: int64(len(e.body)),
			ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		if e.typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("crafting %q: %v", e.name, err)
		}
		if hdr.Size > 0 {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// world is a folder holding a restore folder (dest) and things outside it an escape would
// reach: a file, a folder, a file through an absolute path.
type world struct {
	root, dest, outside string
}

func newWorld(t testing.TB) world {
	t.Helper()
	root := t.TempDir()
	w := world{root: root, dest: filepath.Join(root, "dest"), outside: filepath.Join(root, "outside")}
	for _, d := range []string{w.dest, filepath.Join(w.outside, "dir")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"victim.txt", "dir/inner.txt"} {
		if err := os.WriteFile(filepath.Join(w.outside, f), []byte("untouched "+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// outsideState is treeState of the world without the restore folder.
func (w world) outsideState(t *testing.T) map[string]string {
	st := treeState(t, w.root)
	for k := range st {
		if k == "dest" || strings.HasPrefix(k, "dest/") {
			delete(st, k)
		}
	}
	return st
}

// escapes are archives that try to write outside the restore folder, or to make something
// outside it dangerous, each with the words its refusal must contain. The paths go from dest
// to the world's "outside" folder.
func escapes() []struct {
	name    string
	entries []entry
	reason  string
} {
	return []struct {
		name    string
		entries []entry
		reason  string
	}{
		{"symlink named ./lnk then a file through it", []entry{
			{name: "./", typ: tar.TypeDir, mode: 0o755},
			{name: "./lnk", typ: tar.TypeSymlink, link: "../outside"},
			{name: "lnk/victim.txt", typ: tar.TypeReg, body: "pwned"}}, "not a plain relative name"},
		{"symlink named lnk// then a file through it", []entry{
			{name: "lnk//", typ: tar.TypeSymlink, link: "../outside"},
			{name: "lnk/victim.txt", typ: tar.TypeReg, body: "pwned"}}, "not a plain relative name"},
		{"file through a symlink", []entry{
			{name: "lnk", typ: tar.TypeSymlink, link: "../outside"},
			{name: "lnk/victim.txt", typ: tar.TypeReg, body: "pwned"}}, "is not a folder earlier in the archive"},
		{"folder over a symlink, then chmod", []entry{
			{name: "lnk", typ: tar.TypeSymlink, link: "../outside/victim.txt"},
			{name: "lnk/", typ: tar.TypeDir, mode: 0o4777}}, "appears twice"},
		{"hard link to a symlink", []entry{
			{name: "lnk", typ: tar.TypeSymlink, link: "../outside/victim.txt"},
			{name: "hard", typ: tar.TypeLink, link: "lnk"}}, "not a regular file earlier in the archive"},
		{"hard link through a symlink", []entry{
			{name: "lnk", typ: tar.TypeSymlink, link: "../outside"},
			{name: "hard", typ: tar.TypeLink, link: "lnk/victim.txt"}}, "not a regular file earlier in the archive"},
		{"hard link outside", []entry{
			{name: "hard", typ: tar.TypeLink, link: "../outside/victim.txt"}}, "not a regular file earlier in the archive"},
		{"absolute name", []entry{
			{name: "/tmp/pyship-escape", typ: tar.TypeReg, body: "pwned"}}, "not a plain relative name"},
		{"dot-dot name", []entry{
			{name: "../outside/victim.txt", typ: tar.TypeReg, body: "pwned"}}, "not a plain relative name"},
		{"dot-dot inside a name", []entry{
			{name: "a/", typ: tar.TypeDir},
			{name: "a/../../outside/victim.txt", typ: tar.TypeReg, body: "pwned"}}, "not a plain relative name"},
		{"device file", []entry{
			{name: "null", typ: tar.TypeChar}}, "device file"},
		{"block device", []entry{
			{name: "disk", typ: tar.TypeBlock}}, "device file"},
		{"same file twice", []entry{
			{name: "a", typ: tar.TypeReg, body: "one"},
			{name: "a", typ: tar.TypeReg, body: "two"}}, "appears twice"},
		{"entry inside a file", []entry{
			{name: "f", typ: tar.TypeReg, body: "x"},
			{name: "f/x", typ: tar.TypeReg, body: "x"}}, "is not a folder earlier in the archive"},
		{"entry in a folder never declared", []entry{
			{name: "nodir/x", typ: tar.TypeReg, body: "x"}}, "is not a folder earlier in the archive"},
		{"root entry late", []entry{
			{name: "a", typ: tar.TypeReg, body: "x"},
			{name: "./", typ: tar.TypeDir, mode: 0o777}}, "root entry"},
		{"absolute symlink then folder through it", []entry{
			{name: "etc", typ: tar.TypeSymlink, link: "/etc"},
			{name: "etc/cron.d/", typ: tar.TypeDir}}, "is not a folder earlier in the archive"},
	}
}

func TestExtractRefusesEveryEscape(t *testing.T) {
	for _, tc := range escapes() {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			before := w.outsideState(t)
			archive := craftTar(t, tc.entries...)
			err := extractTree(context.Background(), bytes.NewReader(archive), w.dest, extractOptions{Owners: true})
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("extract: %v; want ErrCorrupt saying %q", err, tc.reason)
			}
			diffStates(t, before, w.outsideState(t))
			if _, err := os.Stat("/tmp/pyship-escape"); err == nil {
				t.Fatal("an absolute entry was written")
			}
			// verify reads the archive with the same rules.
			if err := checkTree(bytes.NewReader(archive)); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("verify of the same archive: %v; want ErrCorrupt saying %q", err, tc.reason)
			}
		})
	}
}

// A sparse file's holes are made up by archive/tar, not read: a few bytes could declare a
// file of any size. GNU tar's PAX sparse format is refused by restore and verify.
func TestExtractRefusesSparseFiles(t *testing.T) {
	src := t.TempDir()
	f, err := os.Create(filepath.Join(src, "sparse"))
	must(t, err)
	must(t, f.Truncate(1<<40)) // 1 TiB of holes
	must(t, f.Close())
	out, err := exec.Command("tar", "--sparse", "--format=posix", "--sparse-version=1.0", "-cf", "-", "-C", src, "sparse").Output()
	if err != nil {
		t.Fatalf("GNU tar: %v", err)
	}
	if len(out) > 1<<20 {
		t.Fatalf("GNU tar wrote %d bytes, not a sparse archive", len(out))
	}
	w := newWorld(t)
	start := time.Now()
	err = extractTree(context.Background(), bytes.NewReader(out), w.dest, extractOptions{})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "sparse") || time.Since(start) > 10*time.Second {
		t.Fatalf("extract of a %d-byte archive declaring 1 TiB: %v after %s; want a quick refusal naming the sparse file", len(out), err, time.Since(start))
	}
	if err := checkTree(bytes.NewReader(out)); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "sparse") {
		t.Fatalf("verify: %v", err)
	}
}

func TestExtractDropsSetIDUnlessAsked(t *testing.T) {
	archive := craftTar(t,
		entry{name: "./", typ: tar.TypeDir, mode: 0o755},
		entry{name: "d/", typ: tar.TypeDir, mode: 0o2775},
		entry{name: "d/tool", typ: tar.TypeReg, body: "#!/bin/sh\n", mode: 0o4755},
		entry{name: "abs", typ: tar.TypeSymlink, link: "/etc/passwd"},
		entry{name: "fifo", typ: tar.TypeFifo, mode: 0o640})
	for _, keep := range []bool{false, true} {
		w := newWorld(t)
		if err := extractTree(context.Background(), bytes.NewReader(archive), w.dest, extractOptions{Owners: true, KeepSetID: keep}); err != nil {
			t.Fatal(err)
		}
		tool, _ := os.Stat(filepath.Join(w.dest, "d", "tool"))
		dir, _ := os.Stat(filepath.Join(w.dest, "d"))
		gotSetID := tool.Mode()&fs.ModeSetuid != 0 && dir.Mode()&fs.ModeSetgid != 0
		if gotSetID != keep || tool.Mode().Perm() != 0o755 || dir.Mode().Perm() != 0o775 {
			t.Errorf("KeepSetID=%v: tool %v, folder %v", keep, tool.Mode(), dir.Mode())
		}
		if target, err := os.Readlink(filepath.Join(w.dest, "abs")); err != nil || target != "/etc/passwd" {
			t.Errorf("symlink restored as %q, %v", target, err)
		}
		if fi, err := os.Lstat(filepath.Join(w.dest, "fifo")); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 || fi.Mode().Perm() != 0o640 {
			t.Errorf("fifo restored as %v, %v", fi, err)
		}
	}
}

// heapSampler is a reader that, every step bytes, collects garbage and records the live heap:
// the most memory the reader's consumer held at once.
type heapSampler struct {
	r       io.Reader
	n, next int64
	step    int64
	maxLive uint64
	gcs     int
}

func (h *heapSampler) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.n += int64(n)
	if h.n >= h.next {
		h.next += h.step
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h.maxLive = max(h.maxLive, ms.HeapAlloc)
		h.gcs++
	}
	return n, err
}

// The PAX bomb: thousands of folder entries, each with a PAX header near the 1 MiB that
// archive/tar reads, once took gigabytes (every folder's header was kept until the end). The
// archive is generated as it is read, so only the extraction's memory counts.
func TestExtractMemoryIsBoundedPerEntry(t *testing.T) {
	const folders = 400
	pad := strings.Repeat("p", 1000<<10)
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		var err error
		for i := 0; i < folders && err == nil; i++ {
			err = tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("d%03d/", i), Typeflag: tar.TypeDir, Mode: 0o755,
				ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX, PAXRecords: map[string]string{"PYSHIP.pad": pad}})
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	h := &heapSampler{r: pr, step: 16 << 20, next: 16 << 20}
	w := newWorld(t)
	start := time.Now()
	if err := extractTree(context.Background(), h, w.dest, extractOptions{}); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(w.dest); len(ents) != folders {
		t.Fatalf("restored %d folders, want %d", len(ents), folders)
	}
	grown := int64(h.maxLive) - int64(base)
	t.Logf("%d folders with %d KiB PAX headers (%d MiB read): live heap grew at most %d KiB over %d samples, %s",
		folders, len(pad)>>10, h.n>>20, grown>>10, h.gcs, time.Since(start).Round(time.Millisecond))
	if h.gcs < 10 || grown > 24<<20 {
		t.Fatalf("live heap grew by %d MiB while extracting (%d samples); want under 24 MiB whatever the number of entries", grown>>20, h.gcs)
	}
}

// FuzzExtractTree extracts arbitrary bytes into a restore folder and checks that nothing
// outside it changed and that no setuid or setgid bit was restored. Plain `go test` runs the
// seeds: the escapes above and testdata/fuzz/FuzzExtractTree (archives made by GNU tar and
// Python's tarfile: sparse files, long names, links, devices).
func FuzzExtractTree(f *testing.F) {
	for _, tc := range escapes() {
		f.Add(craftTar(f, tc.entries...))
	}
	f.Add(craftTar(f, entry{name: "./", typ: tar.TypeDir, mode: 0o755}, entry{name: "a/", typ: tar.TypeDir, mode: 0o2755},
		entry{name: "a/f", typ: tar.TypeReg, body: "data", mode: 0o4755}, entry{name: "a/h", typ: tar.TypeLink, link: "a/f"},
		entry{name: "a/s", typ: tar.TypeSymlink, link: "../../outside"}, entry{name: "p", typ: tar.TypeFifo}))
	f.Fuzz(func(t *testing.T, data []byte) {
		w := newWorld(t)
		before := w.outsideState(t)
		_ = extractTree(context.Background(), bytes.NewReader(data), w.dest, extractOptions{Owners: true})
		diffStates(t, before, w.outsideState(t))
		_ = filepath.WalkDir(w.dest, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if fi, err := d.Info(); err == nil && fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
				t.Errorf("%s restored with %v: setuid/setgid must be dropped", p, fi.Mode())
			}
			return nil
		})
		_ = checkTree(bytes.NewReader(data)) // verify must not panic on it either
	})
}

// A zstd window larger than pyship ever writes is refused before the decoder allocates it.
func TestLargeZstdWindowIsRefused(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	must(t, err)
	zw, err := zstd.NewWriter(nil, zstd.WithWindowSize(64<<20))
	must(t, err)
	plain := bytes.Repeat([]byte("0123456789abcdef"), 4<<20) // 64 MiB
	frame := zw.EncodeAll(plain, nil)
	var enc bytes.Buffer
	w, err := age.Encrypt(&enc, id.Recipient())
	must(t, err)
	_, err = w.Write(frame)
	must(t, err)
	must(t, w.Close())
	rec := SourceRecord{PlainSize: int64(len(plain)), CipherSize: int64(enc.Len())}
	err = decryptStream(&enc, "obj", rec, nil, []age.Identity{id}, discardAll)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("a 64 MiB window: %v; want ErrCorrupt saying it exceeds the limit", err)
	}
}

package backup

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// writeTree archives the folder root as tar (PAX) with owners, modes, symlinks, hard links and
// mtimes. Entry names are relative to root; root itself is "./". Sockets and devices are
// skipped and reported through skip.
func writeTree(ctx context.Context, root string, w io.Writer, skip func(path, why string)) error {
	fi, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("reading backup source folder: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("backup source %s is not a folder", root)
	}
	tw := tar.NewWriter(w)
	type inode struct{ dev, ino uint64 }
	links := map[inode]string{}
	buf := make([]byte, 256<<10)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		mode := info.Mode()
		if mode&(fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice|fs.ModeIrregular) != 0 {
			skip(p, "not a file, folder, symlink or fifo")
			return nil
		}
		link := ""
		if mode&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return fmt.Errorf("reading symlink %s: %w", p, err)
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return fmt.Errorf("archiving %s: %w", p, err)
		}
		hdr.Format = tar.FormatPAX
		hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
		hdr.Name = name
		if d.IsDir() {
			hdr.Name = name + "/"
			if name == "." {
				hdr.Name = "./"
			}
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && mode.IsRegular() && st.Nlink > 1 {
			k := inode{uint64(st.Dev), uint64(st.Ino)}
			if first, ok := links[k]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				links[k] = name
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("archiving %s: %w", p, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		defer f.Close()
		n, err := io.CopyBuffer(tw, io.LimitReader(f, hdr.Size), buf)
		if err != nil {
			return fmt.Errorf("archiving %s: %w", p, err)
		}
		if n != hdr.Size {
			return fmt.Errorf("archiving %s: the file shrank from %d to %d bytes while it was read; take the backup again", p, hdr.Size, n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// Bounds on what one archive entry may hold in memory while it is checked: longer names than
// any file system takes are refused before they are kept.
const (
	maxEntryName = 4096
	maxNamePart  = 255
)

// treeIndex checks the entries of a writeTree archive as they stream by, for extraction and
// for verify alike. An entry must be named exactly as writeTree names it (no "./x", "x//",
// "a/../b" or absolute names), appear once, sit in a folder of the archive seen before it (so
// no entry is ever reached through a symlink or a file), and be a file, folder, symlink, FIFO
// or hard link to a regular file seen before it. Everything else (devices, sparse files,
// collisions, links to or through symlinks) is refused, naming the entry.
type treeIndex struct {
	kinds map[string]byte // entry name (no trailing slash) → tar.TypeDir, TypeReg, ...
	n     int
}

func newTreeIndex() *treeIndex { return &treeIndex{kinds: map[string]byte{}} }

// check returns the entry's name relative to the archive's root, "." for the root itself.
func (ix *treeIndex) check(hdr *tar.Header) (string, error) {
	ix.n++
	bad := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("archive entry %q: %s: %w", truncName(hdr.Name), fmt.Sprintf(format, args...), ErrCorrupt)
	}
	switch hdr.Typeflag {
	case tar.TypeDir, tar.TypeReg, tar.TypeSymlink, tar.TypeLink, tar.TypeFifo:
	case tar.TypeChar, tar.TypeBlock:
		return bad("is a device file, which pyship never archives")
	default:
		return bad("has type %q, which pyship never archives", hdr.Typeflag)
	}
	for k := range hdr.PAXRecords {
		// archive/tar expands sparse holes itself: a tiny archive could declare a file of
		// any size, past the checks on what is read.
		if strings.HasPrefix(k, "GNU.sparse.") {
			return bad("is a sparse file, which pyship never archives")
		}
	}
	if len(hdr.Name) > maxEntryName || len(hdr.Linkname) > maxEntryName {
		return bad("name or link target longer than %d bytes", maxEntryName)
	}
	name := hdr.Name
	if hdr.Typeflag == tar.TypeDir {
		var ok bool
		if name, ok = strings.CutSuffix(name, "/"); !ok {
			return bad("folder name without a trailing slash")
		}
	}
	if name == "." {
		if hdr.Typeflag != tar.TypeDir || ix.n != 1 {
			return bad("the root entry must be the first entry and a folder")
		}
		ix.kinds["."] = tar.TypeDir
		return ".", nil
	}
	if !canonicalName(name) {
		return bad("not a plain relative name (pyship writes names like a/b/c, without ., .., empty or leading slashes)")
	}
	if _, dup := ix.kinds[name]; dup {
		return bad("appears twice in the archive")
	}
	if dir := path.Dir(name); dir != "." && ix.kinds[dir] != tar.TypeDir {
		return bad("its folder %q is not a folder earlier in the archive (a symlink, a file or missing)", dir)
	}
	switch hdr.Typeflag {
	case tar.TypeLink:
		if !canonicalName(hdr.Linkname) || ix.kinds[hdr.Linkname] != tar.TypeReg {
			return bad("hard link to %q, which is not a regular file earlier in the archive", truncName(hdr.Linkname))
		}
	case tar.TypeSymlink:
		if hdr.Linkname == "" || strings.IndexByte(hdr.Linkname, 0) >= 0 {
			return bad("symlink with an empty or invalid target")
		}
	case tar.TypeReg:
		if hdr.Size < 0 {
			return bad("negative size")
		}
	}
	ix.kinds[name] = hdr.Typeflag
	return name, nil
}

// canonicalName says whether n is a relative slash-separated name with no empty, "." or ".."
// element and no element longer than a file system takes.
func canonicalName(n string) bool {
	if n == "" || strings.IndexByte(n, 0) >= 0 {
		return false
	}
	for part := range strings.SplitSeq(n, "/") {
		if part == "" || part == "." || part == ".." || len(part) > maxNamePart {
			return false
		}
	}
	return true
}

func truncName(n string) string {
	if len(n) > 120 {
		return n[:120] + "..."
	}
	return n
}

// extractOptions say what extraction restores beyond contents, modes and mtimes.
type extractOptions struct {
	// Owners restores owners (needs root).
	Owners bool
	// KeepSetID keeps setuid and setgid bits; they are dropped otherwise.
	KeepSetID bool
}

// dirMeta is what is kept of a folder entry until its contents are restored: a few fields,
// never the header (whose PAX records may be large).
type dirMeta struct {
	name     string
	mode     fs.FileMode
	uid, gid int
	mtime    time.Time
}

// extractTree unpacks a writeTree archive into the folder dest (which must exist and be
// empty), restoring modes, mtimes, symlinks, hard links, FIFOs and, with opts.Owners, owners.
// Every file is created through an os.Root of dest, entries are checked by treeIndex before
// anything is created for them, and owners, modes and times are set on file descriptors of
// the entries themselves (or, for symlinks, without following them): nothing outside dest is
// ever touched, whatever the archive holds.
func extractTree(ctx context.Context, r io.Reader, dest string, opts extractOptions) error {
	root, err := os.OpenRoot(dest)
	if err != nil {
		return fmt.Errorf("opening the restore folder: %w", err)
	}
	defer root.Close()
	tr := tar.NewReader(r)
	ix := newTreeIndex()
	var dirs []dirMeta
	buf := make([]byte, 256<<10)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %w: %v", ErrCorrupt, err)
		}
		name, err := ix.check(hdr)
		if err != nil {
			return err
		}
		mode := entryMode(hdr, opts)
		switch hdr.Typeflag {
		case tar.TypeDir:
			if name != "." {
				if err := root.Mkdir(name, 0o700); err != nil {
					return fmt.Errorf("restoring folder %s: %w", name, err)
				}
			}
			dirs = append(dirs, dirMeta{name: name, mode: mode, uid: hdr.Uid, gid: hdr.Gid, mtime: hdr.ModTime})
		case tar.TypeReg:
			f, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return fmt.Errorf("restoring %s: %w", name, err)
			}
			_, err = io.CopyBuffer(f, tr, buf)
			if err == nil {
				err = setMeta(f, hdr.Uid, hdr.Gid, mode, hdr.ModTime, opts.Owners)
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("restoring %s: %w", name, err)
			}
		case tar.TypeLink:
			if err := root.Link(hdr.Linkname, name); err != nil {
				return fmt.Errorf("restoring hard link %s: %w", name, err)
			}
		case tar.TypeSymlink:
			if err := root.Symlink(hdr.Linkname, name); err != nil {
				return fmt.Errorf("restoring symlink %s: %w", name, err)
			}
			if err := inParent(root, name, func(dirfd int, base string) error {
				if opts.Owners {
					if err := unix.Fchownat(dirfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
						return err
					}
				}
				return unix.UtimesNanoAt(dirfd, base, timespecs(hdr.ModTime), unix.AT_SYMLINK_NOFOLLOW)
			}); err != nil {
				return fmt.Errorf("restoring symlink %s: %w", name, err)
			}
		case tar.TypeFifo:
			if err := inParent(root, name, func(dirfd int, base string) error {
				if err := unix.Mkfifoat(dirfd, base, 0o600); err != nil {
					return err
				}
				fd, err := unix.Openat(dirfd, base, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
				if err != nil {
					return err
				}
				f := os.NewFile(uintptr(fd), base)
				defer f.Close()
				return setMeta(f, hdr.Uid, hdr.Gid, mode, hdr.ModTime, opts.Owners)
			}); err != nil {
				return fmt.Errorf("restoring fifo %s: %w", name, err)
			}
		}
	}
	// Folders last and deepest first, so restoring their contents does not change their mtimes.
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		f, err := root.OpenFile(d.name, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
		if err != nil {
			return fmt.Errorf("restoring folder %s: %w", d.name, err)
		}
		err = setMeta(f, d.uid, d.gid, d.mode, d.mtime, opts.Owners)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("restoring folder %s: %w", d.name, err)
		}
	}
	return nil
}

// entryMode is the mode an entry is restored with: permissions and the sticky bit, and
// setuid/setgid only when asked for.
func entryMode(hdr *tar.Header, opts extractOptions) fs.FileMode {
	keep := fs.ModePerm | fs.ModeSticky
	if opts.KeepSetID {
		keep |= fs.ModeSetuid | fs.ModeSetgid
	}
	return hdr.FileInfo().Mode() & keep
}

// setMeta sets owner (when owners), mode and times on an open file: the descriptor is the
// entry itself, so no symlink is ever followed. The owner goes first: chown clears setuid.
func setMeta(f *os.File, uid, gid int, mode fs.FileMode, mtime time.Time, owners bool) error {
	if owners {
		if err := f.Chown(uid, gid); err != nil {
			return fmt.Errorf("restoring the owner: %w", err)
		}
	}
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("restoring the mode: %w", err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	ts := timespecs(mtime)
	var serr error
	err = rc.Control(func(fd uintptr) {
		// futimens: utimensat with a NULL path sets the times of fd itself.
		_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, fd, 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
		if e != 0 {
			serr = e
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("restoring the mtime: %w", err)
	}
	return nil
}

func timespecs(t time.Time) []unix.Timespec {
	ts := unix.NsecToTimespec(t.UnixNano())
	return []unix.Timespec{ts, ts}
}

// inParent calls f with a descriptor of the folder holding name (opened through root, so
// beneath it) and name's last element.
func inParent(root *os.Root, name string, f func(dirfd int, base string) error) error {
	dir, err := root.OpenFile(path.Dir(name), os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	defer dir.Close()
	rc, err := dir.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(int(fd), path.Base(name)) }); err != nil {
		return err
	}
	return ferr
}

// checkTree reads a writeTree archive to its end, checking every entry as extraction would
// (treeIndex), without writing anything.
func checkTree(r io.Reader) error {
	tr := tar.NewReader(r)
	ix := newTreeIndex()
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %w: %v", ErrCorrupt, err)
		}
		if _, err := ix.check(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return fmt.Errorf("reading the archive: %w", err)
		}
	}
}

package backup

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

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

// extractTree unpacks a writeTree archive into dest (which must exist and be empty), restoring
// owners (when running as root), modes, symlinks, hard links and mtimes. Names that would
// land outside dest, directly or through a symlink of the archive, are refused.
func extractTree(ctx context.Context, r io.Reader, dest string) error {
	tr := tar.NewReader(r)
	root := os.Geteuid() == 0
	symlinks := map[string]bool{}
	var dirs []*tar.Header
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
			return fmt.Errorf("reading the archive: %w", err)
		}
		name := strings.TrimSuffix(hdr.Name, "/")
		if name == "." || name == "" {
			dirs = append(dirs, hdr)
			hdr.Name = "."
			continue
		}
		if !filepath.IsLocal(name) {
			return fmt.Errorf("archive entry %q points outside the restore folder: %w", hdr.Name, ErrCorrupt)
		}
		for d := filepath.Dir(name); d != "."; d = filepath.Dir(d) {
			if symlinks[d] {
				return fmt.Errorf("archive entry %q goes through symlink %q: %w", hdr.Name, d, ErrCorrupt)
			}
		}
		target := filepath.Join(dest, name)
		if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.Mkdir(target, 0o700); err != nil && !os.IsExist(err) {
				return err
			}
			hdr.Name = name
			dirs = append(dirs, hdr)
			continue
		case tar.TypeReg:
			f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			_, err = io.CopyBuffer(f, tr, buf)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("restoring %s: %w", target, err)
			}
		case tar.TypeSymlink:
			if err := os.Symlink(hdr.Linkname, target); err != nil {
				return err
			}
			symlinks[name] = true
		case tar.TypeLink:
			if !filepath.IsLocal(hdr.Linkname) {
				return fmt.Errorf("archive hard link %q points outside the restore folder: %w", hdr.Linkname, ErrCorrupt)
			}
			if err := os.Link(filepath.Join(dest, hdr.Linkname), target); err != nil {
				return err
			}
			continue
		case tar.TypeFifo:
			if err := unix.Mkfifo(target, 0o600); err != nil {
				return err
			}
		default:
			return fmt.Errorf("archive entry %q has unsupported type %q: %w", hdr.Name, hdr.Typeflag, ErrCorrupt)
		}
		if err := applyMeta(target, hdr, root); err != nil {
			return err
		}
	}
	// Folders last and deepest first, so restoring their contents does not change their mtimes.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := applyMeta(filepath.Join(dest, dirs[i].Name), dirs[i], root); err != nil {
			return err
		}
	}
	return nil
}

func applyMeta(p string, hdr *tar.Header, root bool) error {
	link := hdr.Typeflag == tar.TypeSymlink
	if root {
		if err := os.Lchown(p, hdr.Uid, hdr.Gid); err != nil {
			return fmt.Errorf("restoring the owner of %s: %w", p, err)
		}
	}
	if !link {
		if err := os.Chmod(p, hdr.FileInfo().Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
			return fmt.Errorf("restoring the mode of %s: %w", p, err)
		}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(hdr.ModTime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("restoring the mtime of %s: %w", p, err)
	}
	return nil
}

// checkTree reads a writeTree archive to its end, checking that every entry is well formed.
func checkTree(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %w", err)
		}
		if n := strings.TrimSuffix(hdr.Name, "/"); n != "." && !filepath.IsLocal(n) {
			return fmt.Errorf("archive entry %q points outside the restore folder: %w", hdr.Name, ErrCorrupt)
		}
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return fmt.Errorf("reading the archive: %w", err)
		}
	}
}

package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/renameio/v2"
	"github.com/klauspost/compress/gzip"
)

// fileEntry is one regular file, symlink or folder of a layer.
type fileEntry struct {
	// Name is the path inside the image without the leading slash.
	Name string
	// Src is the file on the build host whose content and executable bit are used.
	Src string
	// Link, when not "", makes the entry a symlink to Link.
	Link string
	// Dir makes the entry an empty folder (mode 0755) owned by Owner (uid and gid).
	Dir   bool
	Owner int
}

// layerMeta is what the cache keeps beside a layer blob so that reusing it reads nothing.
type layerMeta struct {
	Digest string `json:"digest"`
	DiffID string `json:"diffID"`
	Size   int64  `json:"size"`
	Files  int    `json:"files"`
}

// writeLayer writes entries as a gzip-compressed tar into dir (a cache folder) and returns its
// metadata. The tar is reproducible: entries sorted, parent folders added, every mtime set to
// mtime, owner root:root (a Dir entry's Owner) without names, modes 0755 for folders and
// executables, 0644 otherwise.
func writeLayer(dir string, entries []fileEntry, mtime time.Time) (layerMeta, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return layerMeta{}, err
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	f, err := os.CreateTemp(dir, "layer-*.tmp")
	if err != nil {
		return layerMeta{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	compressed := sha256.New()
	counter := &countWriter{w: io.MultiWriter(f, compressed)}
	gz, err := gzip.NewWriterLevel(counter, gzip.DefaultCompression)
	if err != nil {
		return layerMeta{}, err
	}
	uncompressed := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(gz, uncompressed))
	dirs := map[string]bool{}
	for i, e := range entries {
		if i+1 < len(entries) && entries[i+1].Name == e.Name {
			continue // the same path twice (a wheel shipping its own .pyc): the last added wins
		}
		if err := addParents(tw, dirs, e.Name, mtime); err != nil {
			return layerMeta{}, err
		}
		if e.Dir {
			dirs[e.Name] = true
		}
		if err := addFile(tw, e, mtime); err != nil {
			return layerMeta{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return layerMeta{}, err
	}
	if err := gz.Close(); err != nil {
		return layerMeta{}, err
	}
	meta := layerMeta{Digest: "sha256:" + hexSum(compressed), DiffID: "sha256:" + hexSum(uncompressed), Size: counter.n, Files: len(entries)}
	if err := f.Close(); err != nil {
		return layerMeta{}, err
	}
	blob := filepath.Join(dir, strings.TrimPrefix(meta.Digest, "sha256:")+".tar.gz")
	if err := os.Rename(f.Name(), blob); err != nil {
		return layerMeta{}, err
	}
	return meta, nil
}

func addParents(tw *tar.Writer, done map[string]bool, name string, mtime time.Time) error {
	var parents []string
	for d := path.Dir(name); d != "." && d != "/" && !done[d]; d = path.Dir(d) {
		parents = append(parents, d)
	}
	for i := len(parents) - 1; i >= 0; i-- {
		d := parents[i]
		done[d] = true
		h := &tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
	}
	return nil
}

func addFile(tw *tar.Writer, e fileEntry, mtime time.Time) error {
	if e.Dir {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: e.Name + "/", Mode: 0o755, Uid: e.Owner, Gid: e.Owner, ModTime: mtime, Format: tar.FormatPAX})
	}
	if e.Link != "" {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: e.Name, Linkname: e.Link, Mode: 0o777, ModTime: mtime, Format: tar.FormatPAX})
	}
	f, err := os.Open(e.Src)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	mode := int64(0o644)
	if fi.Mode()&0o111 != 0 {
		mode = 0o755
	}
	h := &tar.Header{Typeflag: tar.TypeReg, Name: e.Name, Size: fi.Size(), Mode: mode, ModTime: mtime, Format: tar.FormatPAX}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("adding %s to the layer: %w", e.Src, err)
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// cachedLayer is a layer blob in the cache whose digests are known without reading it.
type cachedLayer struct {
	path string
	meta layerMeta
}

var _ v1.Layer = cachedLayer{}

func (l cachedLayer) Digest() (v1.Hash, error)             { return v1.NewHash(l.meta.Digest) }
func (l cachedLayer) DiffID() (v1.Hash, error)             { return v1.NewHash(l.meta.DiffID) }
func (l cachedLayer) Size() (int64, error)                 { return l.meta.Size, nil }
func (l cachedLayer) MediaType() (types.MediaType, error)  { return types.OCILayer, nil }
func (l cachedLayer) Compressed() (io.ReadCloser, error)   { return os.Open(l.path) }
func (l cachedLayer) Uncompressed() (io.ReadCloser, error) { return gunzipFile(l.path) }

func gunzipFile(p string) (io.ReadCloser, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{gz, f}, nil
}

// layerCache stores layers under dir keyed by a string (a hash of their inputs).
type layerCache struct{ dir string }

func (c layerCache) metaPath(key string) string { return filepath.Join(c.dir, "keys", key+".json") }

// get returns the layer stored for key, if any.
func (c layerCache) get(key string) (cachedLayer, bool) {
	b, err := os.ReadFile(c.metaPath(key))
	if err != nil {
		return cachedLayer{}, false
	}
	var m layerMeta
	if json.Unmarshal(b, &m) != nil {
		return cachedLayer{}, false
	}
	p := filepath.Join(c.dir, "blobs", strings.TrimPrefix(m.Digest, "sha256:")+".tar.gz")
	if fi, err := os.Stat(p); err != nil || fi.Size() != m.Size {
		return cachedLayer{}, false
	}
	return cachedLayer{path: p, meta: m}, true
}

// put writes entries as a layer and records it under key.
func (c layerCache) put(key string, entries []fileEntry, mtime time.Time) (cachedLayer, error) {
	blobs := filepath.Join(c.dir, "blobs")
	m, err := writeLayer(blobs, entries, mtime)
	if err != nil {
		return cachedLayer{}, fmt.Errorf("writing a layer into %s: %w", blobs, err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return cachedLayer{}, err
	}
	if err := writeFileAtomic(c.metaPath(key), b); err != nil {
		return cachedLayer{}, err
	}
	return cachedLayer{path: filepath.Join(blobs, strings.TrimPrefix(m.Digest, "sha256:")+".tar.gz"), meta: m}, nil
}

// writeFileAtomic writes b to p (mode 0600, its folder made) through a synced temporary file
// and a rename (renameio).
func writeFileAtomic(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return renameio.WriteFile(p, b, 0o600)
}

// hashKey hashes the parts of a cache key.
func hashKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hexSum(h)[:32]
}

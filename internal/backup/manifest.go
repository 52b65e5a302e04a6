package backup

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// ManifestFormat is the version of the manifest document: 2 is signed (see sign.go), 1 the
// unsigned manifests of earlier pyship versions, read only with AllowUnsigned.
const ManifestFormat = 2

const legacyManifestFormat = 1

// errNewerFormat is a manifest of a newer pyship: it does not count here either.
var errNewerFormat = errors.New("upgrade pyship to read it")

// Manifest describes one complete backup. A backup exists only once its manifest is written,
// which happens after every source's object has been uploaded.
type Manifest struct {
	Format        int       `json:"format"`
	ID            string    `json:"id"`
	Created       time.Time `json:"created"`
	Finished      time.Time `json:"finished"`
	Release       string    `json:"release,omitempty"`
	PyshipVersion string    `json:"pyshipVersion"`
	// Recipients are the age public keys the objects are encrypted to.
	Recipients []string       `json:"recipients"`
	Sources    []SourceRecord `json:"sources"`
	// SignedBy is the public key whose signature was checked when the manifest was read; ""
	// for a legacy unsigned backup read with AllowUnsigned. Never taken from the document.
	SignedBy string `json:"signedBy,omitempty"`
}

// SourceRecord is one source of a backup and the object that holds it.
type SourceRecord struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Origin is the folder, SQLite file or database (DSN without password) backed up.
	Origin string `json:"origin"`
	// Object is the key of the encrypted stream, relative to the backup's folder.
	Object       string `json:"object"`
	PlainSize    int64  `json:"plainSize"`
	PlainSHA256  string `json:"plainSha256"`
	CipherSize   int64  `json:"cipherSize"`
	CipherSHA256 string `json:"cipherSha256"`
}

// Size is the stored (encrypted) size of the backup.
func (m *Manifest) Size() int64 {
	var n int64
	for _, s := range m.Sources {
		n += s.CipherSize
	}
	return n
}

// Source returns the record named name.
func (m *Manifest) Source(name string) (SourceRecord, bool) {
	for _, s := range m.Sources {
		if s.Name == name {
			return s, true
		}
	}
	return SourceRecord{}, false
}

// parseManifest reads the signed bytes of a manifest (or a legacy unsigned one) and checks
// that it is one pyship could have written for backup id: the strict formats of the ID, source
// names and object names, sizes and hashes. A signed manifest is still checked: it never
// chooses a local path or an object outside its backup's folder.
func parseManifest(b []byte, key, id string, format int) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w: %v", key, ErrCorrupt, err)
	}
	if m.Format != format {
		if m.Format > ManifestFormat {
			return nil, fmt.Errorf("manifest %s has format %d; this pyship reads format %d: %w", key, m.Format, ManifestFormat, errNewerFormat)
		}
		return nil, fmt.Errorf("manifest %s: format %d where %d was expected: %w", key, m.Format, format, ErrCorrupt)
	}
	m.SignedBy = ""
	bad := func(format string, args ...any) (*Manifest, error) {
		return nil, fmt.Errorf("manifest %s: %s: %w", key, fmt.Sprintf(format, args...), ErrCorrupt)
	}
	if m.ID != id {
		return bad("it names backup %q", m.ID)
	}
	if ts, _, _ := strings.Cut(id, "-"); m.Created.UTC().Format(idTime) != ts {
		return bad("created %s does not match its ID", m.Created.Format(time.RFC3339))
	}
	seen := map[string]bool{}
	for _, s := range m.Sources {
		if !validName(s.Name) {
			return bad("source name %q is not 1-64 letters, digits, '-', '_' or '.'", s.Name)
		}
		if seen[s.Name] {
			return bad("source %q appears twice", s.Name)
		}
		seen[s.Name] = true
		switch s.Kind {
		case KindDir, KindSQLite, KindPostgres:
		default:
			return bad("source %q has kind %q", s.Name, s.Kind)
		}
		if want := objectName(Source{Name: s.Name, Kind: s.Kind}); s.Object != want {
			return bad("source %q names object %q; pyship names it %q", s.Name, s.Object, want)
		}
		if s.PlainSize < 0 || s.CipherSize < 0 || !isSHA256(s.PlainSHA256) || !isSHA256(s.CipherSHA256) {
			return bad("source %q has invalid sizes or hashes", s.Name)
		}
	}
	return &m, nil
}

func isSHA256(h string) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// latestDoc is the signed content of the latest pointer.
type latestDoc struct {
	ID string `json:"id"`
}

// layout names the objects under a destination prefix:
//
//	PREFIX/latest                 the ID of the newest complete backup
//	PREFIX/ID/manifest.json       the manifest (written last)
//	PREFIX/ID/SOURCE.EXT          one encrypted stream per source
type layout struct{ prefix string }

func (l layout) join(parts ...string) string {
	if l.prefix == "" {
		return path.Join(parts...)
	}
	return path.Join(append([]string{l.prefix}, parts...)...)
}
func (l layout) root() string {
	if l.prefix == "" {
		return ""
	}
	return l.prefix + "/"
}
func (l layout) latest() string            { return l.join("latest") }
func (l layout) manifest(id string) string { return l.join(id, "manifest.json") }
func (l layout) object(id, obj string) string {
	return l.join(id, obj)
}

// idOf returns the backup ID of a key under the prefix, "" for keys outside backup folders.
func (l layout) idOf(key string) string {
	rest, ok := strings.CutPrefix(key, l.root())
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, "/")
	if !ok || !validID(id) {
		return ""
	}
	return id
}

const idTime = "20060102T150405Z"

// newID makes a backup ID that sorts by creation time: 20261125T091400Z-3f9a.
func newID(t time.Time, rnd uint16) string {
	return fmt.Sprintf("%s-%04x", t.UTC().Format(idTime), rnd)
}

// validID says whether id is exactly a backup ID as newID makes it.
func validID(id string) bool {
	ts, suffix, ok := strings.Cut(id, "-")
	if !ok || len(suffix) != 4 || len(ts) != len(idTime) {
		return false
	}
	for _, c := range suffix {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	for i, c := range ts {
		if want := idTime[i]; want == 'T' || want == 'Z' {
			if byte(c) != want {
				return false
			}
		} else if c < '0' || c > '9' {
			return false
		}
	}
	_, err := time.Parse(idTime, ts)
	return err == nil
}

func objectName(s Source) string {
	switch s.Kind {
	case KindPostgres:
		return s.Name + ".pgdump.zst.age"
	case KindSQLite:
		return s.Name + ".sqlite.zst.age"
	}
	return s.Name + ".tar.zst.age"
}

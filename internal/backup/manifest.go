package backup

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"
)

// ManifestFormat is the version of the manifest document.
const ManifestFormat = 1

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

func parseManifest(b []byte, key string) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w: %v", key, ErrCorrupt, err)
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("manifest %s has format %d; this pyship reads format %d: upgrade pyship", key, m.Format, ManifestFormat)
	}
	return &m, nil
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

func validID(id string) bool {
	ts, suffix, ok := strings.Cut(id, "-")
	if !ok || len(suffix) != 4 {
		return false
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

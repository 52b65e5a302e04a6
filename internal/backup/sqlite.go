package backup

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver keeps pyship a static binary
)

// dumpSQLite writes a consistent copy of the SQLite database at path into w. VACUUM INTO
// reads one snapshot while the app goes on writing; the copy goes to a temporary file
// (SQLite writes databases to files), which is streamed and removed.
func dumpSQLite(ctx context.Context, path string, w io.Writer) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("reading the SQLite source: %w", err)
	}
	tmpDir, err := os.MkdirTemp("", "pyship-sqlite-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmpDir)
	snap := filepath.Join(tmpDir, "snapshot.db")
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(30000)")
	q.Add("mode", "ro")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO '"+strings.ReplaceAll(snap, "'", "''")+"'"); err != nil {
		return fmt.Errorf("taking a snapshot of SQLite database %s: %w", path, err)
	}
	f, err := os.Open(snap)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

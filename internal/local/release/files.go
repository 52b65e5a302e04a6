package release

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"
	"github.com/pyship/pyship/internal/dotenv"
)

func copyFiles(src, dst string, files []string) error {
	for _, f := range files {
		from, to := filepath.Join(src, filepath.FromSlash(f)), filepath.Join(dst, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return fmt.Errorf("copying app files: %w", err)
		}
		if err := copyFile(from, to); err != nil {
			return fmt.Errorf("copying app file %s: %w", f, err)
		}
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// linkData makes rel (a folder of the app) a link to the same folder under the persistent
// data root, so its contents survive every deploy and rollback. Files the release shipped
// there seed the persistent folder the first time only.
func linkData(appDir, dataRoot, rel string) error {
	clean := filepath.Clean(filepath.FromSlash(rel))
	if filepath.IsAbs(clean) || clean == "." || strings.HasPrefix(clean, "..") {
		return fmt.Errorf("data folder %q must be a relative path inside the project ([data] persistent)", rel)
	}
	persist := filepath.Join(dataRoot, clean)
	link := filepath.Join(appDir, clean)
	if _, err := os.Stat(persist); os.IsNotExist(err) {
		if err := os.MkdirAll(filepath.Dir(persist), 0o755); err != nil {
			return err
		}
		if st, err := os.Stat(link); err == nil && st.IsDir() {
			if err := os.Rename(link, persist); err != nil {
				return fmt.Errorf("seeding data folder %s: %w", rel, err)
			}
		} else if err := os.MkdirAll(persist, 0o755); err != nil {
			return fmt.Errorf("creating data folder %s: %w", persist, err)
		}
	}
	if err := os.RemoveAll(link); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	return os.Symlink(persist, link)
}

// writeJSON writes v to file atomically (temp file, fsync, rename).
func writeJSON(file string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteAtomic(file, b)
}

// WriteAtomic writes b to file (mode 0600) through a synced temporary file and a rename
// (renameio), so readers and crashes see either the old or the new content.
func WriteAtomic(file string, b []byte) error {
	if err := renameio.WriteFile(file, b, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	return nil
}

// ReadSecrets reads the app's secrets file ([secrets] file) by dotenv.Read's rules, which
// the Kubernetes target follows too.
func ReadSecrets(file string) (map[string]string, error) { return dotenv.Read(file) }

package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"
)

// GenerateIdentity writes a new age identity to file (mode 0600, atomically, never over an
// existing file) and returns its public key, the recipient to put in [backup] recipients.
func GenerateIdentity(file string) (string, error) {
	if _, err := os.Lstat(file); err == nil {
		return "", fmt.Errorf("identity file %s exists: refusing to overwrite a key that may protect backups", file)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".pyship-identity-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	content := fmt.Sprintf("# created: %s\n# public key: %s\n%s\n", time.Now().UTC().Format(time.RFC3339), id.Recipient(), id)
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Link(tmp.Name(), file); err != nil { // link, unlike rename, never replaces
		return "", fmt.Errorf("writing identity file: %w", err)
	}
	return id.Recipient().String(), nil
}

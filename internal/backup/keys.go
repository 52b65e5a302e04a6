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
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", err
	}
	content := fmt.Sprintf("# created: %s\n# public key: %s\n%s\n", time.Now().UTC().Format(time.RFC3339), id.Recipient(), id)
	if err := writeKeyFile(file, content); err != nil {
		return "", err
	}
	return id.Recipient().String(), nil
}

// writeKeyFile writes a new key file (mode 0600, atomically) and never replaces one: a key
// may be what protects or vouches for existing backups.
func writeKeyFile(file, content string) error {
	if _, err := os.Lstat(file); err == nil {
		return fmt.Errorf("key file %s exists: refusing to overwrite a key that may protect backups", file)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".pyship-key-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), file); err != nil { // link, unlike rename, never replaces
		return fmt.Errorf("writing key file: %w", err)
	}
	return nil
}

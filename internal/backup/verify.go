package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pyship/pyship/internal/duration"

	"filippo.io/age"
)

// VerifyResult is the outcome of verifying one backup.
type VerifyResult struct {
	ID       string            `json:"id"`
	Sources  []string          `json:"sources"`
	Bytes    int64             `json:"bytes"`
	Duration duration.Duration `json:"duration"`
}

// Verify downloads and decrypts every object of backup id and checks sizes and SHA-256 of
// ciphertext and plaintext against the manifest, and that each archive parses, without
// restoring anything.
func (c *Client) Verify(ctx context.Context, id string, ids []age.Identity) (*VerifyResult, error) {
	m, err := c.Find(ctx, id)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	res, err := c.verifyObjects(ctx, m, ids)
	if err != nil {
		return nil, err
	}
	res.Duration = duration.Duration(time.Since(start))
	return res, nil
}

// verifyObjects checks every object of m against it (sizes, hashes, and for folders every
// archive entry).
func (c *Client) verifyObjects(ctx context.Context, m *Manifest, ids []age.Identity) (*VerifyResult, error) {
	res := &VerifyResult{ID: m.ID}
	for _, rec := range m.Sources {
		consume := discardAll
		if rec.Kind == KindDir {
			consume = checkTree
		}
		if err := decryptFrom(ctx, c.store, c.lay.object(m.ID, rec.Object), rec, m.Recipients, ids, consume); err != nil {
			return nil, fmt.Errorf("verifying backup %s, source %q: %w", m.ID, rec.Name, err)
		}
		res.Sources = append(res.Sources, rec.Name)
		res.Bytes += rec.CipherSize
		c.progress(Event{Kind: "source", ID: m.ID, Source: rec.Name, Bytes: rec.CipherSize, Msg: "verified"})
	}
	return res, nil
}

// Adopt signs the unsigned backup id of an earlier pyship version, after checking every object
// against its manifest, so that it counts again (listed, restored, pruned) without
// AllowUnsigned. Whoever adopts a backup vouches that they took it: the checks prove only that
// the objects match the manifest, not who wrote both.
func (c *Client) Adopt(ctx context.Context, id string, ids []age.Identity) (*Manifest, error) {
	key, err := c.cfg.signer()
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, fmt.Errorf("backup ID %q: want an ID from `pyship backup list --allow-unsigned` (like 20261125T091400Z-3f9a)", id)
	}
	mkey := c.lay.manifest(id)
	b, err := c.readSmall(ctx, mkey)
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", id, err)
	}
	if _, signer, err := c.verify.open(docManifest, b); err == nil {
		return nil, fmt.Errorf("backup %s is already signed, by %s", id, signer)
	} else if !errors.Is(err, ErrUnsigned) {
		return nil, fmt.Errorf("backup %s: %w: only unsigned backups of earlier pyship versions are adopted", id, err)
	}
	m, err := parseManifest(b, mkey, id, legacyManifestFormat)
	if err != nil {
		return nil, err
	}
	if _, err := c.verifyObjects(ctx, m, ids); err != nil {
		return nil, err
	}
	m.Format = ManifestFormat
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if b, err = seal(key, docManifest, c.lay.prefix, body); err != nil {
		return nil, err
	}
	if err := c.store.Put(ctx, mkey, b); err != nil {
		return nil, fmt.Errorf("backup %s: writing the signed manifest: %w", id, err)
	}
	m.SignedBy = key.PublicKey()
	return m, nil
}

func discardAll(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"

	"filippo.io/age"
)

// NowOptions are the options of one backup.
type NowOptions struct {
	// Release tags the backup, e.g. the release a deploy is about to replace.
	Release string
}

// Now takes a backup of every source. It counts only once its manifest is written, after every
// object is uploaded; then the latest pointer moves. On failure the partial upload is aborted,
// objects already uploaded for this backup are deleted, and earlier backups are untouched.
// Incomplete uploads left under the prefix by an earlier, interrupted run are aborted first
// (one backup runs at a time per destination: the agent serialises them).
func (c *Client) Now(ctx context.Context, opts NowOptions) (*Manifest, error) {
	if err := c.cfg.Validate(); err != nil {
		return nil, err
	}
	recipients, err := ParseRecipients(c.cfg.Recipients)
	if err != nil {
		return nil, err
	}
	key, err := c.cfg.signer()
	if err != nil {
		return nil, err
	}
	if err := c.store.Check(ctx); err != nil {
		return nil, err
	}
	start := c.now()
	if keys, err := c.store.AbortUploads(ctx, c.lay.root(), start); err != nil {
		c.progress(Event{Kind: "warn", Msg: err.Error()})
	} else {
		for _, k := range keys {
			c.progress(Event{Kind: "abort", Msg: "aborted the incomplete upload of " + k + " left by an interrupted backup"})
		}
	}
	m := &Manifest{Format: ManifestFormat, ID: newID(start, uint16(rand.Uint32())), Created: start.UTC(),
		Release: opts.Release, PyshipVersion: c.version, Recipients: c.cfg.Recipients}
	c.progress(Event{Kind: "start", ID: m.ID})
	for _, src := range c.cfg.Sources {
		rec, err := c.backupSource(ctx, m.ID, src, recipients)
		if err != nil {
			c.discard(ctx, m)
			return nil, fmt.Errorf("backup %s, source %q: %w", m.ID, src.Name, err)
		}
		m.Sources = append(m.Sources, rec)
		c.progress(Event{Kind: "source", ID: m.ID, Source: src.Name, Bytes: rec.CipherSize})
	}
	m.Finished = c.now().UTC()
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	b, err := seal(key, docManifest, c.lay.prefix, body)
	if err != nil {
		return nil, err
	}
	latest, err := json.Marshal(latestDoc{ID: m.ID})
	if err != nil {
		return nil, err
	}
	if latest, err = seal(key, docLatest, c.lay.prefix, latest); err != nil {
		return nil, err
	}
	if err := c.store.Put(ctx, c.lay.manifest(m.ID), b); err != nil {
		c.discard(ctx, m)
		return nil, fmt.Errorf("backup %s: writing the manifest: %w", m.ID, err)
	}
	if err := c.store.Put(ctx, c.lay.latest(), latest); err != nil {
		// The backup is complete (its manifest exists); only the pointer is stale.
		return m, fmt.Errorf("backup %s is complete but the latest pointer was not updated: %w", m.ID, err)
	}
	m.SignedBy = key.PublicKey()
	c.progress(Event{Kind: "done", ID: m.ID, Bytes: m.Size()})
	return m, nil
}

func (c *Client) backupSource(ctx context.Context, id string, src Source, recipients []age.Recipient) (SourceRecord, error) {
	rec := SourceRecord{Name: src.Name, Kind: src.Kind, Object: objectName(src)}
	var produce func(w io.Writer) error
	switch src.Kind {
	case KindDir:
		rec.Origin = src.Path
		produce = func(w io.Writer) error {
			return writeTree(ctx, src.Path, w, func(p, why string) {
				c.progress(Event{Kind: "skip", ID: id, Source: src.Name, Msg: p + ": " + why})
			})
		}
	case KindSQLite:
		rec.Origin = src.Path
		produce = func(w io.Writer) error { return dumpSQLite(ctx, src.Path, w) }
	case KindPostgres:
		rec.Origin = redactDSN(src.DSN)
		produce = func(w io.Writer) error { return c.pgDump(ctx, src.DSN, w) }
	default:
		return rec, fmt.Errorf("unknown source kind %q", src.Kind)
	}
	ow, err := c.store.Create(ctx, c.lay.object(id, rec.Object))
	if err != nil {
		return rec, err
	}
	if err := encryptTo(ctx, ow, recipients, &rec, produce); err != nil {
		if aerr := ow.Abort(ctx); aerr != nil {
			return rec, fmt.Errorf("%w (and the partial upload could not be aborted: %v; the next backup aborts it)", err, aerr)
		}
		return rec, err
	}
	return rec, ow.Commit(ctx)
}

// discard deletes the objects already uploaded for an unfinished backup (best effort; prune
// removes what is left).
func (c *Client) discard(ctx context.Context, m *Manifest) {
	dctx := context.WithoutCancel(ctx)
	for _, s := range m.Sources {
		if err := c.store.Delete(dctx, c.lay.object(m.ID, s.Object)); err != nil && !errors.Is(err, ErrNotFound) {
			c.progress(Event{Kind: "warn", ID: m.ID, Msg: "leaving " + s.Object + " for prune: " + err.Error()})
		}
	}
}

package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Listing is what a destination holds.
type Listing struct {
	// Backups are the complete backups, newest first.
	Backups []*Manifest `json:"backups"`
	// Incomplete are the IDs of folders without a manifest (interrupted backups; prune
	// removes them).
	Incomplete []string `json:"incomplete"`
	// Latest is the ID the latest pointer names ("" when there is none).
	Latest string `json:"latest"`
}

// List reads every manifest under the destination.
func (c *Client) List(ctx context.Context) (*Listing, error) {
	if err := c.store.Check(ctx); err != nil {
		return nil, err
	}
	objs, err := c.store.List(ctx, c.lay.root())
	if err != nil {
		return nil, err
	}
	l := &Listing{}
	hasManifest := map[string]bool{}
	var ids []string
	for _, o := range objs {
		id := c.lay.idOf(o.Key)
		if id == "" {
			continue
		}
		if _, ok := hasManifest[id]; !ok {
			ids = append(ids, id)
			hasManifest[id] = false
		}
		if o.Key == c.lay.manifest(id) {
			hasManifest[id] = true
		}
	}
	for _, id := range ids {
		if !hasManifest[id] {
			l.Incomplete = append(l.Incomplete, id)
			continue
		}
		m, err := c.manifest(ctx, id)
		if err != nil {
			return nil, err
		}
		l.Backups = append(l.Backups, m)
	}
	// Newest first. IDs sort by the second they were made in; two backups of one second (a
	// schedule and a deploy's backup) are ordered by their full creation time.
	sort.Slice(l.Backups, func(i, j int) bool {
		a, b := l.Backups[i], l.Backups[j]
		if !a.Created.Equal(b.Created) {
			return a.Created.After(b.Created)
		}
		return a.ID > b.ID
	})
	if b, err := c.readSmall(ctx, c.lay.latest()); err == nil {
		l.Latest = strings.TrimSpace(string(b))
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	return l, nil
}

// Find returns the backup named id; "latest" or "" is the newest one.
func (c *Client) Find(ctx context.Context, id string) (*Manifest, error) {
	if id == "" || id == "latest" {
		b, err := c.readSmall(ctx, c.lay.latest())
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("no backup at %s yet: take one with `pyship backup now`: %w", c.cfg.Destination, ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
		id = strings.TrimSpace(string(b))
	}
	if !validID(id) {
		return nil, fmt.Errorf("backup ID %q: want an ID from `pyship backup list` (like 20261125T091400Z-3f9a) or \"latest\"", id)
	}
	return c.manifest(ctx, id)
}

// ForRelease returns the newest backup tagged with release, e.g. the one a deploy took
// before replacing it (for `pyship rollback --with-data`).
func (l *Listing) ForRelease(release string) (*Manifest, bool) {
	for _, m := range l.Backups {
		if m.Release == release {
			return m, true
		}
	}
	return nil, false
}

func (c *Client) manifest(ctx context.Context, id string) (*Manifest, error) {
	key := c.lay.manifest(id)
	b, err := c.readSmall(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("backup %s: %w (no manifest: it does not exist or never completed); see `pyship backup list`", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	m, err := parseManifest(b, key)
	if err != nil {
		return nil, err
	}
	if m.ID != id {
		return nil, fmt.Errorf("manifest %s names backup %q: %w", key, m.ID, ErrCorrupt)
	}
	return m, nil
}

func (c *Client) readSmall(ctx context.Context, key string) ([]byte, error) {
	rc, _, err := c.store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 16<<20))
}

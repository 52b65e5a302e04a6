package backup

import (
	"context"
	"encoding/json"
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
	// Rejected are the backups whose manifest is unsigned, wrongly signed or malformed: they
	// are not backups here (not restored, not counted or deleted by prune).
	Rejected []Rejected `json:"rejected,omitempty"`
	// Latest is the ID the latest pointer names ("" when there is none, or it is not validly
	// signed: LatestProblem says why).
	Latest        string `json:"latest"`
	LatestProblem string `json:"latestProblem,omitempty"`
}

// Rejected is a backup folder that does not count, and why.
type Rejected struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// untrusted says whether err is about the origin or form of a stored document (it is refused),
// rather than about reaching it.
func untrusted(err error) bool {
	return errors.Is(err, ErrUnsigned) || errors.Is(err, ErrBadSignature) || errors.Is(err, ErrCorrupt) || errors.Is(err, errNewerFormat)
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
		switch {
		case untrusted(err):
			l.Rejected = append(l.Rejected, Rejected{ID: id, Reason: err.Error()})
			continue
		case errors.Is(err, ErrNotFound): // deleted meanwhile
			continue
		case err != nil:
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
	switch id, err := c.latest(ctx); {
	case err == nil:
		l.Latest = id
	case untrusted(err):
		l.LatestProblem = err.Error()
	case !errors.Is(err, ErrNotFound):
		return nil, err
	}
	return l, nil
}

// Find returns the backup named id; "latest" or "" is the newest one.
func (c *Client) Find(ctx context.Context, id string) (*Manifest, error) {
	if id == "" || id == "latest" {
		var err error
		id, err = c.latest(ctx)
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("no backup at %s yet: take one with `pyship backup now`: %w", c.cfg.Destination, ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
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

// manifest reads the manifest of backup id and checks its signature against the pinned keys
// (a legacy unsigned one is read only with AllowUnsigned) and its form (parseManifest).
func (c *Client) manifest(ctx context.Context, id string) (*Manifest, error) {
	key := c.lay.manifest(id)
	b, err := c.readSmall(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("backup %s: %w (no manifest: it does not exist or never completed); see `pyship backup list`", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	body, signer, err := c.verify.open(docManifest, b)
	format := ManifestFormat
	if errors.Is(err, ErrUnsigned) && c.cfg.AllowUnsigned {
		body, format, err = b, legacyManifestFormat, nil
	}
	if err != nil {
		return nil, fmt.Errorf("backup %s: refused: %w%s", id, err, unsignedHint(err))
	}
	m, err := parseManifest(body, key, id, format)
	if err != nil {
		return nil, fmt.Errorf("backup %s: refused: %w", id, err)
	}
	m.SignedBy = signer
	return m, nil
}

func unsignedHint(err error) string {
	if errors.Is(err, ErrUnsigned) {
		return " (a backup of a pyship before signed backups, or not made by your backups at all: to read backups you know you took, pass --allow-unsigned)"
	}
	return ""
}

// latest reads the latest pointer and checks its signature.
func (c *Client) latest(ctx context.Context) (string, error) {
	b, err := c.readSmall(ctx, c.lay.latest())
	if err != nil {
		return "", err
	}
	body, _, err := c.verify.open(docLatest, b)
	var id string
	switch {
	case errors.Is(err, ErrUnsigned) && c.cfg.AllowUnsigned:
		id = strings.TrimSpace(string(b))
	case err != nil:
		return "", fmt.Errorf("the latest pointer %s: refused: %w%s", c.lay.latest(), err, unsignedHint(err))
	default:
		var d latestDoc
		if err := json.Unmarshal(body, &d); err != nil {
			return "", fmt.Errorf("the latest pointer %s: %w: %v", c.lay.latest(), ErrCorrupt, err)
		}
		id = d.ID
	}
	if !validID(id) {
		return "", fmt.Errorf("the latest pointer %s names %q, not a backup ID: %w", c.lay.latest(), truncName(id), ErrCorrupt)
	}
	return id, nil
}

func (c *Client) readSmall(ctx context.Context, key string) ([]byte, error) {
	rc, _, err := c.store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 16<<20))
}

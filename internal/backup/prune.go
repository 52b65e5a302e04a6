package backup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// PruneResult is what prune decided and did.
type PruneResult struct {
	Decisions []Decision `json:"decisions"`
	// Deleted are the backups removed (or, in a dry run, that would be).
	Deleted []string `json:"deleted"`
	// Incomplete are the interrupted backups whose leftover objects were removed.
	Incomplete []string `json:"incomplete"`
	DryRun     bool     `json:"dryRun"`
}

// Prune deletes the backups that r does not keep, and the leftovers of interrupted backups
// older than the newest complete one. Each backup's manifest is deleted first, then its
// objects: a crash in between leaves objects without a manifest, which no longer count as a
// backup and which the next prune removes; deleting objects first could leave a manifest that
// promises data that is gone. The backup the latest pointer names is always kept. Backups
// that are not validly signed are never counted or deleted.
func (c *Client) Prune(ctx context.Context, r Retention, loc *time.Location, dryRun bool) (*PruneResult, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	l, err := c.List(ctx)
	if err != nil {
		return nil, err
	}
	// Only signed backups count: an unsigned one (legacy, read with AllowUnsigned) or a
	// rejected one is neither kept nor deleted, so nobody without the signing key can make
	// prune delete a real backup by crowding the retention.
	var snaps []Snapshot
	var signed []*Manifest
	for _, m := range l.Backups {
		if m.SignedBy != "" {
			snaps = append(snaps, Snapshot{ID: m.ID, Created: m.Created})
			signed = append(signed, m)
		}
	}
	res := &PruneResult{Decisions: Decide(snaps, r, loc), DryRun: dryRun}
	for i, d := range res.Decisions {
		if !d.Keep && d.ID == l.Latest {
			res.Decisions[i].Keep, res.Decisions[i].Reasons = true, []string{"latest pointer"}
		}
	}
	newest := ""
	if len(signed) > 0 {
		newest = signed[0].ID
	}
	var errs []error
	for _, d := range res.Decisions {
		if d.Keep {
			continue
		}
		res.Deleted = append(res.Deleted, d.ID)
		if dryRun {
			continue
		}
		if err := c.store.Delete(ctx, c.lay.manifest(d.ID)); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := c.deleteFolder(ctx, d.ID); err != nil {
			errs = append(errs, err)
		}
		c.progress(Event{Kind: "delete", ID: d.ID})
	}
	for _, id := range l.Incomplete {
		// A folder newer than the newest backup may be a backup running right now.
		if id >= newest {
			continue
		}
		res.Incomplete = append(res.Incomplete, id)
		if !dryRun {
			if err := c.deleteFolder(ctx, id); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("pruning %s: %w (run prune again)", c.cfg.Destination, errors.Join(errs...))
	}
	return res, nil
}

func (c *Client) deleteFolder(ctx context.Context, id string) error {
	objs, err := c.store.List(ctx, c.lay.join(id)+"/")
	if err != nil {
		return err
	}
	for _, o := range objs {
		if !strings.HasPrefix(o.Key, c.lay.join(id)+"/") {
			continue
		}
		if err := c.store.Delete(ctx, o.Key); err != nil {
			return err
		}
	}
	return nil
}

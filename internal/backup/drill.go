package backup

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pyship/pyship/internal/duration"

	"filippo.io/age"
)

// DrillOptions say where a drill restores to.
type DrillOptions struct {
	Identities []age.Identity
	// Scratch is the folder folders and SQLite files are restored into ("" makes and then
	// removes a temporary one).
	Scratch string
	// ScratchPostgres is a DSN of a database to restore PostgreSQL sources into; without it
	// they are only verified.
	ScratchPostgres string
}

// DrillReport is the outcome of a restore drill.
type DrillReport struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	// RecoveryPoint is how old the data restored is (now - the backup's creation): what a
	// disaster now would lose.
	RecoveryPoint duration.Duration `json:"recoveryPoint"`
	// RecoveryTime is how long the restore took.
	RecoveryTime duration.Duration `json:"recoveryTime"`
	Bytes        int64             `json:"bytes"`
	Sources      []DrillSource     `json:"sources"`
}

// DrillSource is what the drill did with one source.
type DrillSource struct {
	Name string `json:"name"`
	// Result is "restored" or "verified" (PostgreSQL without a scratch database).
	Result string `json:"result"`
	Target string `json:"target,omitempty"`
}

// Drill restores backup id into a scratch place, checks it, and reports the recovery point
// and recovery time.
func (c *Client) Drill(ctx context.Context, id string, opts DrillOptions) (*DrillReport, error) {
	m, err := c.Find(ctx, id)
	if err != nil {
		return nil, err
	}
	scratch := opts.Scratch
	if scratch == "" {
		if scratch, err = os.MkdirTemp("", "pyship-drill-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(scratch)
	}
	start := time.Now()
	rep := &DrillReport{ID: m.ID, Created: m.Created, RecoveryPoint: duration.Duration(c.now().Sub(m.Created))}
	var recs []SourceRecord
	var targets []string
	for _, rec := range m.Sources {
		ds := DrillSource{Name: rec.Name, Result: "restored"}
		switch {
		case rec.Kind == KindPostgres && opts.ScratchPostgres == "":
			ds.Result = "verified"
			if err := decryptFrom(ctx, c.store, c.lay.object(m.ID, rec.Object), rec, m.Recipients, opts.Identities, discardAll); err != nil {
				return nil, fmt.Errorf("drill of backup %s, source %q: %w", m.ID, rec.Name, err)
			}
			c.progress(Event{Kind: "source", ID: m.ID, Source: rec.Name, Bytes: rec.PlainSize, Msg: ds.Result})
		case rec.Kind == KindPostgres:
			ds.Target = redactDSN(opts.ScratchPostgres)
			recs, targets = append(recs, rec), append(targets, opts.ScratchPostgres)
		default:
			// Source names were checked when the manifest was read: one path element each.
			ds.Target = filepath.Join(scratch, rec.Name)
			recs, targets = append(recs, rec), append(targets, ds.Target)
		}
		rep.Bytes += rec.PlainSize
		rep.Sources = append(rep.Sources, ds)
	}
	if err := c.restoreAll(ctx, m, recs, targets, opts.Identities, false); err != nil {
		return nil, fmt.Errorf("drill: %w", err)
	}
	for i, rec := range recs {
		if rec.Kind == KindSQLite {
			if err := sqliteIntegrity(ctx, targets[i]); err != nil {
				return nil, fmt.Errorf("drill of backup %s, source %q: %w", m.ID, rec.Name, err)
			}
		}
	}
	rep.RecoveryTime = duration.Duration(time.Since(start))
	return rep, nil
}

func sqliteIntegrity(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("checking the restored SQLite file: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("restored SQLite file fails its integrity check: %s: %w", res, ErrCorrupt)
	}
	return nil
}

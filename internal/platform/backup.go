package platform

import (
	"cmp"
	"fmt"
	"github.com/pyship/pyship/internal/progress"

	"github.com/pyship/pyship/internal/backup"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/plan"
)

// BackupConfig is the backup config of p, with the DSNs and S3 keys of its secrets file and
// its folders read under dataRoot (when not "").
func BackupConfig(p *plan.Plan, secretsFile, dataRoot string, getenv func(string) string) (backup.Config, error) {
	opts := backup.PlanOptions{DataRoot: dataRoot, Getenv: getenv}
	if secretsFile != "" {
		var err error
		if opts.Secrets, err = release.ReadSecrets(secretsFile); err != nil {
			return backup.Config{}, err
		}
	}
	cfg, err := backup.FromPlan(p, opts)
	if err != nil {
		return cfg, Invalid(err)
	}
	cfg.Getenv = getenv
	return cfg, nil
}

// BackupForRelease is the newest validly signed backup of l tagged with release: the data a
// rollback to release restores. When there is none it says so, and how many backups were
// rejected (unsigned, wrongly signed) and why.
func BackupForRelease(l *backup.Listing, dest, release string) (*backup.Manifest, error) {
	if bm, ok := l.ForRelease(release); ok {
		return bm, nil
	}
	rejected := ""
	if len(l.Rejected) > 0 {
		rejected = fmt.Sprintf(" (%d backup(s) there were rejected, e.g. %s)", len(l.Rejected), l.Rejected[0].Reason)
	}
	return nil, fmt.Errorf("no validly signed backup at %s is tagged with release %s%s (a deploy with [deploy] backup_before = true takes one of the release it replaces): nothing was changed; roll back without --with-data, or restore a backup by ID with `pyship backup restore`", dest, release, rejected)
}

// BackupProgressLine is a backup's event as a progress line.
func BackupProgressLine(e backup.Event) string {
	switch e.Kind {
	case "start":
		return "backup " + e.ID + ": started"
	case "source":
		msg := cmp.Or(e.Msg, "uploaded")
		return fmt.Sprintf("backup %s: %s %s (%s)", e.ID, e.Source, msg, progress.Bytes(e.Bytes))
	case "done":
		return fmt.Sprintf("backup %s: complete (%s)", e.ID, progress.Bytes(e.Bytes))
	case "delete":
		return "backup " + e.ID + ": deleted"
	}
	return e.Kind + ": " + e.Msg
}

package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pyship/pyship/internal/backup"
	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/local/agent"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/progress"
	"github.com/pyship/pyship/internal/version"
	"github.com/spf13/pflag"
)

// dataRollback is `pyship rollback --with-data`: the data folders (and databases) go back to
// the backup a deploy took of the target release before replacing it ([deploy] backup_before).
type dataRollback struct {
	with           bool
	identityFile   string
	identitySecret string
}

func (d *dataRollback) add(f *pflag.FlagSet) {
	f.BoolVar(&d.with, "with-data", false, "also restore the data the deploy that replaced RELEASE backed up first ([deploy] backup_before); the app stops while it is restored")
	f.StringVar(&d.identityFile, "identity-file", "", "age identity file for --with-data (env PYSHIP_BACKUP_IDENTITY_FILE)")
	f.StringVar(&d.identitySecret, "identity-secret", "", "kubernetes: the Secret holding the age identity (key identity) the restore pod reads for --with-data (default APP-backup-identity)")
}

// restoreKube is `pyship rollback --with-data` on Kubernetes: it finds the backup tagged with
// the release rolled back to (listing the destination from this machine), then restores it
// inside the cluster with the identity of the namespace's Secret. Until the backup is found,
// nothing changes; a failure after that leaves the app scaled down, and says so.
func (d *dataRollback) restoreKube(ctx context.Context, s *streams, ka *kubeApp, b *kube.Bundle, target string) error {
	if !d.with {
		return nil
	}
	pb := ka.p.Backup
	if pb == nil || pb.Destination == "" || b.BackupPod == nil {
		return usageError{fmt.Errorf("--with-data needs a [backup] table with a destination and a schedule or [deploy] backup_before: there is no backup to roll the data back to; nothing was changed")}
	}
	bc, err := backup.New(backup.Config{Destination: pb.Destination, Endpoint: pb.Endpoint, Region: pb.Region,
		SigningPublicKeys: pb.SigningPublicKeys, Getenv: s.getenv}, backup.WithVersion(version.String()))
	if err != nil {
		return usageError{err}
	}
	l, err := bc.List(ctx)
	if err != nil {
		return err
	}
	bm, err := backupForRelease(l, pb.Destination, target)
	if err != nil {
		return err
	}
	secret := cmp.Or(d.identitySecret, ka.app+"-backup-identity")
	fmt.Fprintf(s.Err, "restoring the data of %s from backup %s (taken %s, %s) inside the cluster; %s is scaled down meanwhile\n",
		target, bm.ID, bm.Created.Local().Format(time.RFC3339), progress.Bytes(bm.Size()), ka.app)
	if err := ka.c.RestoreData(ctx, b, bm.ID, secret, kubeProgress(s)); err != nil {
		return fmt.Errorf("%w; %s may be scaled down: run `pyship rollback --with-data` again, or `pyship rollback` to serve it with its current data", err, ka.app)
	}
	return nil
}

// restore finds the backup tagged with target, then stops the app and restores it in place.
// Until a backup is found and the identity read, nothing changes.
func (d *dataRollback) restore(ctx context.Context, s *streams, c *agent.Client, home, app, target string) error {
	if !d.with {
		return nil
	}
	ids, err := backup.ReadIdentities(firstSet(d.identityFile, s.getenv("PYSHIP_BACKUP_IDENTITY_FILE")))
	if err != nil {
		return usageError{err}
	}
	bc, dest, err := rollbackBackupClient(ctx, s, c, home, app, target)
	if err != nil {
		return err
	}
	l, err := bc.List(ctx)
	if err != nil {
		return err
	}
	bm, err := backupForRelease(l, dest, target)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Err, "restoring the data of %s from backup %s (taken %s, %s); %s stops meanwhile\n",
		target, bm.ID, bm.Created.Local().Format(time.RFC3339), progress.Bytes(bm.Size()), app)
	msg, err := c.Act(ctx, app, "stop")
	if err != nil {
		return err
	}
	fmt.Fprintln(s.Err, msg)
	res, err := bc.Restore(ctx, bm.ID, backup.RestoreOptions{Identities: ids})
	if err != nil {
		return fmt.Errorf("%w; %s is stopped: restore again, or `pyship rollback` without --with-data serves it with its current data", err, app)
	}
	for name, to := range res.Targets {
		fmt.Fprintf(s.Err, "restored %s -> %s\n", name, to)
	}
	return nil
}

// rollbackBackupClient is the backup client of the app's stable release (whose deploy took
// the backup), else of the target release.
func rollbackBackupClient(ctx context.Context, s *streams, c *agent.Client, home, app, target string) (*backup.Client, string, error) {
	paths := release.Paths{Home: home}
	rels := []string{target}
	if st, err := c.Status(ctx, app); err == nil && len(st) == 1 && st[0].Stable != "" {
		rels = []string{st[0].Stable, target}
	}
	for _, id := range rels {
		m, err := release.Load(paths, app, id)
		if err != nil || m.Plan.Backup == nil || m.Plan.Backup.Destination == "" {
			continue
		}
		cfg, err := planBackupConfig(&m.Plan, m.SecretsFile, m.DataDir, s.getenv)
		if err != nil {
			return nil, "", err
		}
		bc, err := backup.New(cfg, backup.WithVersion(version.String()), backup.WithProgress(func(e backup.Event) {
			fmt.Fprintln(s.Err, progressLine(e))
		}))
		return bc, cfg.Destination, err
	}
	return nil, "", errors.New("neither the stable release nor " + target + " of " + app + " has a [backup] destination: there is no backup to roll the data back to; nothing was changed")
}

// backupForRelease is the newest validly signed backup of l tagged with release. When there is
// none it says so, and how many backups were rejected (unsigned, wrongly signed) and why.
func backupForRelease(l *backup.Listing, dest, release string) (*backup.Manifest, error) {
	if bm, ok := l.ForRelease(release); ok {
		return bm, nil
	}
	rejected := ""
	if len(l.Rejected) > 0 {
		rejected = fmt.Sprintf(" (%d backup(s) there were rejected, e.g. %s)", len(l.Rejected), l.Rejected[0].Reason)
	}
	return nil, fmt.Errorf("no validly signed backup at %s is tagged with release %s%s (a deploy with [deploy] backup_before = true takes one of the release it replaces): nothing was changed; roll back without --with-data, or restore a backup by ID with `pyship backup restore`", dest, release, rejected)
}

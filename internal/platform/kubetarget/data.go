package kubetarget

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/pyship/pyship/internal/backup"
	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/progress"
	"github.com/pyship/pyship/internal/version"
)

// restoreData is `pyship rollback --with-data` on Kubernetes: it finds the backup tagged with
// the release rolled back to (listing the destination from this machine), then restores it
// inside the cluster with the identity of the namespace's Secret (default APP-backup-identity).
// Until the backup is found, nothing changes; a failure after that leaves the app scaled
// down, and says so.
func (k *Platform) restoreData(ctx context.Context, app string, b *kube.Bundle, target, secret string) error {
	pb := k.o.Plan.Backup
	if pb == nil || pb.Destination == "" || b.BackupPod == nil {
		return platform.Invalid(fmt.Errorf("--with-data needs a [backup] table with a destination and a schedule or [deploy] backup_before: there is no backup to roll the data back to; nothing was changed"))
	}
	bc, err := backup.New(backup.Config{Destination: pb.Destination, Endpoint: pb.Endpoint, Region: pb.Region,
		SigningPublicKeys: pb.SigningPublicKeys}, backup.WithVersion(version.String()))
	if err != nil {
		return platform.Invalid(err)
	}
	l, err := bc.List(ctx)
	if err != nil {
		return err
	}
	bm, err := platform.BackupForRelease(l, pb.Destination, target)
	if err != nil {
		return err
	}
	secret = cmp.Or(secret, app+"-backup-identity")
	k.progress("restoring the data of %s from backup %s (taken %s, %s) inside the cluster; %s is scaled down meanwhile",
		target, bm.ID, bm.Created.Local().Format(time.RFC3339), progress.Bytes(bm.Size()), app)
	if err := k.c.RestoreData(ctx, b, bm.ID, secret, k.progress); err != nil {
		return fmt.Errorf("%w; %s may be scaled down: run `pyship rollback --with-data` again, or `pyship rollback` to serve it with its current data", err, app)
	}
	return nil
}

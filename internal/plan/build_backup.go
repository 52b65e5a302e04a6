package plan

import (
	"strings"

	"github.com/pyship/pyship/internal/spec"
)

// backup resolves the spec's [backup] table: folders default to the persistent data folders,
// the retention to DefaultRetention when no keep_* key is set.
func (b *builder) backup() {
	sb := b.sp.Backup
	set := false
	for k := range b.sp.Positions {
		if strings.HasPrefix(k, "backup.") {
			set = true
			break
		}
	}
	if !set {
		return
	}
	bk := &Backup{Schedule: sb.Schedule, Destination: sb.Destination, Endpoint: sb.Endpoint, Region: sb.Region,
		Recipients: append([]string{}, sb.Recipients...), SigningPublicKeys: append([]string(nil), sb.SigningPublicKeys...), Folders: []string{}}
	for _, kv := range [][2]string{{"schedule", sb.Schedule}, {"destination", sb.Destination}, {"endpoint", sb.Endpoint}, {"region", sb.Region}} {
		if kv[1] != "" {
			b.ev("backup."+kv[0], b.specEv("backup."+kv[0], "spec [backup] "+kv[0]))
		}
	}
	if len(sb.Recipients) > 0 {
		b.ev("backup.recipients", b.specEv("backup.recipients", "spec [backup] recipients"))
	}
	if len(sb.SigningPublicKeys) > 0 {
		b.ev("backup.signingPublicKeys", b.specEv("backup.signing_public_keys", "spec [backup] signing_public_keys"))
	}
	bk.Retention = Retention{KeepLast: sb.KeepLast, KeepDaily: sb.KeepDaily, KeepWeekly: sb.KeepWeekly}
	var keys []string
	for _, k := range []string{"keep_last", "keep_daily", "keep_weekly"} {
		if _, ok := b.sp.Positions["backup."+k]; ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		bk.Retention = DefaultRetention
		b.ev("backup.retention", def("no keep_* key is set"))
	} else {
		e := b.specEv("backup."+keys[0], "spec [backup] "+strings.Join(keys, ", "))
		if len(keys) < 3 {
			e.Note = "the other keep_* counts are 0"
		}
		b.ev("backup.retention", e)
	}
	if _, ok := b.sp.Positions["backup.folders"]; ok {
		for _, f := range sb.Folders {
			bk.Folders = append(bk.Folders, cleanDir(f))
		}
		b.ev("backup.folders", b.specEv("backup.folders", "spec [backup] folders"))
	} else {
		for _, d := range b.p.Data {
			if d.Persistent {
				bk.Folders = append(bk.Folders, d.Path)
			}
		}
		b.ev("backup.folders", Evidence{Rule: "default: the persistent data folders", Note: "set [backup] folders to choose"})
	}
	if len(sb.SQLite) > 0 {
		for _, f := range sb.SQLite {
			bk.SQLite = append(bk.SQLite, cleanDir(f))
		}
		b.ev("backup.sqlite", b.specEv("backup.sqlite", "spec [backup] sqlite"))
	}
	if len(sb.Postgres) > 0 {
		for _, v := range sb.Postgres {
			name, secret := spec.PostgresSource(v)
			bk.Postgres = append(bk.Postgres, PostgresSource{Name: name, Secret: secret})
		}
		b.ev("backup.postgres", b.specEv("backup.postgres", "spec [backup] postgres"))
	}
	if sb.Schedule != "" && len(bk.Folders)+len(bk.SQLite)+len(bk.Postgres) == 0 {
		b.warnf("%s: [backup] schedule is set but there is nothing to back up: no persistent data folder, sqlite or postgres source", location(b.specEv("backup.schedule", "")))
	}
	if len(sb.SigningPublicKeys) == 0 && (sb.Schedule != "" || b.sp.Deploy.BackupBefore) {
		b.warnf("%s: [backup] has no signing_public_keys: backups are signed and only those a pinned key signed are restored; make a key with `pyship backup keygen --signing-key-file FILE`, pin its public half there and give the private half to the agent (PYSHIP_BACKUP_SIGNING_KEY in the app's secrets file)", location(b.specEv("backup.destination", "")))
	}
	b.p.Backup = bk
}

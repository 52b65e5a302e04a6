package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/pyship/pyship/internal/backup"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform"
)

// projectBackup is what the project folder says about backups: its plan's [backup] section
// resolved to a Config, with folders read from the live data of the local deployment when
// there is one.
type projectBackup struct {
	cfg backup.Config
	// from says where the sources are read, for the user.
	from string
}

// loadProjectBackup resolves the project in dir (with the env overlay) and builds its backup
// config. The live data root is the newest release's DataDir under home, when the app has one.
func loadProjectBackup(ctx context.Context, dir, env, home string, getenv func(string) string) (*projectBackup, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	p, err := plan.Resolve(ctx, abs, plan.Options{Env: env})
	if err != nil {
		return nil, usageError{fmt.Errorf("reading the backup settings of the project in %s: %w (pass --dir to name another project)", abs, err)}
	}
	secrets := p.SecretsFile
	if secrets != "" && !filepath.IsAbs(secrets) {
		secrets = filepath.Join(p.Dir, secrets)
	}
	dataRoot := ""
	pb := &projectBackup{from: fmt.Sprintf("the project's folders in %s (no local deployment of %s under %s)", p.Dir, p.Name, home)}
	paths := release.Paths{Home: home}
	if ids := release.List(paths, p.Name); len(ids) > 0 {
		if m, err := release.Load(paths, p.Name, ids[len(ids)-1]); err == nil && m.DataDir != "" {
			dataRoot = m.DataDir
			pb.from = fmt.Sprintf("the live data of the local deployment of %s in %s", p.Name, m.DataDir)
		}
	}
	if pb.cfg, err = platform.BackupConfig(p, secrets, dataRoot, getenv); err != nil {
		return nil, err
	}
	return pb, nil
}

// merge lays the flags over the project's config: each flag that is set wins; any source
// flag replaces all the project's sources.
func (o *backupOptions) merge(cfg backup.Config) backup.Config {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cfg.Destination, o.dest)
	set(&cfg.Endpoint, o.endpoint)
	set(&cfg.Region, o.region)
	cfg.Profile = o.profile
	if len(o.recipients) > 0 {
		cfg.Recipients = o.recipients
	}
	if r := (backup.Retention{Last: o.keepLast, Daily: o.keepDaily, Weekly: o.keepWeekly}); r != (backup.Retention{}) {
		cfg.Retention = r
	}
	return cfg
}

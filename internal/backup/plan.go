package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pyship/pyship/internal/plan"
)

// PlanSources returns a folder source for each persistent data folder of p (relative paths
// resolved against p.Dir), named after the folder ("data/uploads" → "data-uploads").
func PlanSources(p *plan.Plan) []Source {
	var out []Source
	for _, d := range p.Data {
		if d.Persistent {
			out = append(out, Source{Name: sourceName(d.Path), Kind: KindDir, Path: resolve(p.Dir, d.Path)})
		}
	}
	return out
}

// PlanOptions say where the sources of a plan live and where its secrets come from.
type PlanOptions struct {
	// DataRoot is the live data root of a local deployment (the release manifest's DataDir),
	// which holds each persistent folder under its project-relative path. Folders and SQLite
	// files inside a persistent folder are read there; "" reads everything in p.Dir.
	DataRoot string
	// Secrets are the app's secret variables (its [secrets] file): PostgreSQL DSNs and
	// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN are taken from them first.
	Secrets map[string]string
	// Getenv is asked for variables the secrets lack (os.Getenv when nil).
	Getenv func(string) string
}

// The variables the private half of the signing key is read from: the key itself, or the file
// holding it (the app's secrets file first, then the environment).
const (
	SigningKeyVar     = "PYSHIP_BACKUP_SIGNING_KEY"
	SigningKeyFileVar = "PYSHIP_BACKUP_SIGNING_KEY_FILE"
)

// FromPlan is the Config of p's [backup] section: destination, recipients, retention,
// schedule and sources (folders, SQLite files, PostgreSQL databases by the variable holding
// their DSN), and the signing key ($PYSHIP_BACKUP_SIGNING_KEY or the file
// $PYSHIP_BACKUP_SIGNING_KEY_FILE names). Without a [backup] section the sources are the persistent data folders and the
// rest is left to the caller. It fails when a DSN variable is set nowhere.
func FromPlan(p *plan.Plan, opts PlanOptions) (Config, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	lookup := func(v string) (string, bool) {
		if s, ok := opts.Secrets[v]; ok && s != "" {
			return s, true
		}
		s := getenv(v)
		return s, s != ""
	}
	var cfg Config
	if k, ok := lookup(SigningKeyVar); ok {
		cfg.SigningKey = k
	} else if f, ok := lookup(SigningKeyFileVar); ok {
		k, err := os.ReadFile(f)
		if err != nil {
			return cfg, fmt.Errorf("reading the backup signing key that $%s names: %w", SigningKeyFileVar, err)
		}
		cfg.SigningKey = string(k)
	}
	if ak, ok := opts.Secrets["AWS_ACCESS_KEY_ID"]; ok && ak != "" {
		cfg.Credentials = Credentials{AccessKey: ak, SecretKey: opts.Secrets["AWS_SECRET_ACCESS_KEY"], SessionToken: opts.Secrets["AWS_SESSION_TOKEN"]}
	}
	var persistent []string
	for _, d := range p.Data {
		if d.Persistent {
			persistent = append(persistent, d.Path)
		}
	}
	where := func(rel string) string {
		if opts.DataRoot != "" && !filepath.IsAbs(rel) && inAny(rel, persistent) {
			return resolve(opts.DataRoot, rel)
		}
		return resolve(p.Dir, rel)
	}
	b := p.Backup
	if b == nil {
		for _, f := range persistent {
			cfg.Sources = append(cfg.Sources, Source{Name: sourceName(f), Kind: KindDir, Path: where(f)})
		}
		return cfg, nil
	}
	cfg.Destination, cfg.Endpoint, cfg.Region, cfg.Schedule = b.Destination, b.Endpoint, b.Region, b.Schedule
	cfg.Recipients = append([]string(nil), b.Recipients...)
	cfg.SigningPublicKeys = append([]string(nil), b.SigningPublicKeys...)
	cfg.Retention = Retention{Last: b.Retention.KeepLast, Daily: b.Retention.KeepDaily, Weekly: b.Retention.KeepWeekly}
	for _, f := range b.Folders {
		cfg.Sources = append(cfg.Sources, Source{Name: sourceName(f), Kind: KindDir, Path: where(f)})
	}
	for _, f := range b.SQLite {
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		cfg.Sources = append(cfg.Sources, Source{Name: name, Kind: KindSQLite, Path: where(f)})
	}
	var errs []error
	for _, pg := range b.Postgres {
		dsn, ok := lookup(pg.Secret)
		if !ok {
			where := "the environment (the app has no [secrets] file)"
			if p.SecretsFile != "" {
				where = "the secrets file " + p.SecretsFile + " or the environment"
			}
			errs = append(errs, fmt.Errorf("[backup] postgres %q takes its DSN from $%s, which is not set in %s: add %s=postgres://... to the app's secrets ([secrets] file)",
				pg.Name, pg.Secret, where, pg.Secret))
			continue
		}
		cfg.Sources = append(cfg.Sources, Source{Name: pg.Name, Kind: KindPostgres, DSN: dsn})
	}
	return cfg, errors.Join(errs...)
}

// inAny says whether rel is one of the folders or inside one.
func inAny(rel string, folders []string) bool {
	c := filepath.ToSlash(filepath.Clean(rel))
	for _, f := range folders {
		f = filepath.ToSlash(filepath.Clean(f))
		if c == f || strings.HasPrefix(c, f+"/") {
			return true
		}
	}
	return false
}

func resolve(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

// sourceName names a folder source after its path ("data/uploads" → "data-uploads").
func sourceName(p string) string {
	name := strings.Trim(strings.NewReplacer("/", "-", "\\", "-", " ", "-").Replace(filepath.ToSlash(filepath.Clean(p))), "-.")
	if name == "" {
		return "data"
	}
	return name
}

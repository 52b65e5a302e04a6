package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/backup"
	"github.com/pyship/pyship/internal/notify"
	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/progress"
	"github.com/pyship/pyship/internal/spec"
	"github.com/pyship/pyship/internal/version"
	"github.com/spf13/cobra"
)

// backupOptions are the settings every backup verb shares. They come from the project's
// [backup] table (DIR, the verb's last argument, or --dir; default the current folder when it
// holds a spec), overridden by flags, then the environment.
type backupOptions struct {
	localOptions
	dir, env                        string
	dirGiven                        bool // DIR or --dir named the project
	dest, endpoint, region, profile string
	recipients                      []string
	identityFile                    string
	signingKeyFile                  string
	signingPublicKeys               []string
	allowUnsigned                   bool
	dirs, postgres, sqlite          []string
	keepLast, keepDaily, keepWeekly int
	out                             outputFlag
	getenv                          func(string) string // the command's environment
}

func (o *backupOptions) config(ctx context.Context, cmd *cobra.Command) (backup.Config, string, error) {
	var cfg backup.Config
	from := ""
	if o.dirGiven || cmd.Flags().Changed("dir") || spec.Exists(o.dir) {
		if err := o.resolveHome(o.getenv); err != nil {
			return cfg, "", err
		}
		pb, err := loadProjectBackup(ctx, o.dir, o.env, o.home, o.getenv)
		if err != nil {
			return cfg, "", err
		}
		cfg, from = pb.cfg, pb.from
	}
	cfg = o.merge(cfg)
	cfg.Getenv = o.getenv
	if cfg.Destination == "" {
		cfg.Destination = o.getenv("PYSHIP_BACKUP_DEST")
	}
	if len(cfg.Recipients) == 0 && o.getenv("PYSHIP_BACKUP_RECIPIENTS") != "" {
		cfg.Recipients = strings.Split(o.getenv("PYSHIP_BACKUP_RECIPIENTS"), ",")
	}
	if len(o.signingPublicKeys) > 0 {
		cfg.SigningPublicKeys = o.signingPublicKeys
	} else if len(cfg.SigningPublicKeys) == 0 && o.getenv("PYSHIP_BACKUP_SIGNING_PUBLIC_KEYS") != "" {
		cfg.SigningPublicKeys = strings.Split(o.getenv("PYSHIP_BACKUP_SIGNING_PUBLIC_KEYS"), ",")
	}
	cfg.AllowUnsigned = o.allowUnsigned
	if cfg.Destination == "" {
		return cfg, "", usageError{errors.New("no backup destination: set [backup] destination in the project's spec, pass --dest s3://bucket/prefix or set PYSHIP_BACKUP_DEST")}
	}
	if len(o.dirs)+len(o.postgres)+len(o.sqlite) > 0 {
		cfg.Sources = nil
		if from != "" {
			from = "the --source, --postgres and --sqlite flags, not the project's [backup] sources"
		}
	}
	var envErr error
	add := func(kind backup.Kind, vals []string) {
		for _, v := range vals {
			name, val, ok := strings.Cut(v, "=")
			if !ok || strings.Contains(name, "/") || strings.Contains(name, ":") {
				name, val = "", v
			}
			if name == "" {
				switch kind {
				case backup.KindPostgres:
					name = "postgres"
				default:
					name = strings.TrimSuffix(filepath.Base(filepath.Clean(val)), filepath.Ext(val))
				}
			}
			s := backup.Source{Name: name, Kind: kind, Path: val}
			if kind == backup.KindPostgres {
				s.Path, s.DSN = "", val
				// env:VAR names the variable holding the DSN, so the DSN is in no command
				// line (the Kubernetes backup pod gets it from the app's Secret).
				if v, ok := strings.CutPrefix(val, "env:"); ok {
					if s.DSN = o.getenv(v); s.DSN == "" {
						envErr = errors.Join(envErr, fmt.Errorf("--postgres %s: the variable %s that holds its DSN is not set", name, v))
					}
				}
			}
			cfg.Sources = append(cfg.Sources, s)
		}
	}
	add(backup.KindDir, o.dirs)
	add(backup.KindPostgres, o.postgres)
	add(backup.KindSQLite, o.sqlite)
	if envErr != nil {
		return cfg, from, usageError{envErr}
	}
	return cfg, from, nil
}

// signingKey fills cfg.SigningKey, the private half that signs a new backup: --signing-key-file
// (or $PYSHIP_BACKUP_SIGNING_KEY_FILE) wins over the project's secrets file, then
// $PYSHIP_BACKUP_SIGNING_KEY.
func (o *backupOptions) signingKey(cfg *backup.Config) error {
	if o.signingKeyFile != "" {
		k, err := os.ReadFile(o.signingKeyFile)
		if err != nil {
			return usageError{fmt.Errorf("reading the backup signing key (--signing-key-file): %w", err)}
		}
		cfg.SigningKey = string(k)
	}
	if cfg.SigningKey == "" {
		cfg.SigningKey = o.getenv(backup.SigningKeyVar)
	}
	return nil
}

// backupMemoryLimit is the soft heap limit of backup commands (peak RSS goal: 64 MB).
const backupMemoryLimit = 44 << 20

func firstSet(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func newBackupCmd(s *streams) *cobra.Command {
	o := &backupOptions{getenv: s.getenv}
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Take, list, verify, restore, prune and drill encrypted backups in S3-compatible storage",
		Long: `Backups stream each source (folders as tar, PostgreSQL through pg_dump, SQLite through
VACUUM INTO) through zstd and age to S3. Only age public keys (--recipient) are needed to take
a backup; the identity (--identity-file) is needed to verify and restore and never leaves
this machine. Every backup is signed with an Ed25519 key (--signing-key-file, or
PYSHIP_BACKUP_SIGNING_KEY); only backups signed by a pinned public key ([backup]
signing_public_keys or --signing-public-key) are listed, verified, restored, drilled or pruned:
the bucket is not trusted. S3 credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the AWS
credentials file; the endpoint and region from --endpoint/--region, [backup], AWS_ENDPOINT_URL and
AWS_REGION, or the AWS config file (~/.aws/config or AWS_CONFIG_FILE).

In a project folder (or given its folder as DIR, the last argument of every backup verb but
keygen, as every other verb takes it; or --dir) the spec's [backup] table gives the defaults: destination,
recipients, retention and sources. Folders and SQLite files are read from the live data of the
app's local deployment when there is one ($PYSHIP_HOME/apps/APP/data), else from the project;
"sources:" on stderr says which. PostgreSQL DSNs come from the app's secrets file or the
environment by the variable [backup] postgres names.`,
	}
	cmd.PersistentPreRun = func(*cobra.Command, []string) {
		// Backups stream in bounded buffers; a soft limit keeps the garbage collector from
		// letting the heap grow to twice that (GOMEMLIMIT overrides it).
		if s.getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(backupMemoryLimit)
		}
	}
	f := cmd.PersistentFlags()
	f.StringVar(&o.dir, "dir", ".", "the project whose [backup] table gives the defaults, as DIR does (the current folder is read when it holds pyship.toml or a pyproject.toml with [tool.pyship])")
	f.StringVar(&o.env, "env", "", "apply the spec's [env.NAME] overlay")
	f.StringVar(&o.home, "home", "", "pyship's state folder, where the live data of a local deployment is (default $PYSHIP_HOME or ~/.local/share/pyship)")
	f.StringVar(&o.dest, "dest", "", "destination s3://bucket/prefix (default [backup] destination, else env PYSHIP_BACKUP_DEST)")
	f.StringVar(&o.endpoint, "endpoint", "", "S3 endpoint URL, e.g. http://127.0.0.1:9000 (default [backup] endpoint, env AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, endpoint_url in ~/.aws/config)")
	f.StringVar(&o.region, "region", "", "S3 region (default [backup] region, env AWS_REGION or AWS_DEFAULT_REGION, region in ~/.aws/config, else us-east-1)")
	f.StringVar(&o.profile, "profile", "", "profile of the AWS credentials and config files (env AWS_PROFILE)")
	f.StringArrayVar(&o.recipients, "recipient", nil, "age public key to encrypt to, repeatable (default [backup] recipients, else env PYSHIP_BACKUP_RECIPIENTS, comma-separated)")
	f.StringVar(&o.identityFile, "identity-file", s.getenv("PYSHIP_BACKUP_IDENTITY_FILE"), "age identity file for verify, restore and drill (env PYSHIP_BACKUP_IDENTITY_FILE)")
	f.StringVar(&o.signingKeyFile, "signing-key-file", s.getenv(backup.SigningKeyFileVar), "private signing key that signs new backups (env PYSHIP_BACKUP_SIGNING_KEY_FILE, or the key itself in PYSHIP_BACKUP_SIGNING_KEY)")
	f.StringArrayVar(&o.signingPublicKeys, "signing-public-key", nil, "public signing key whose backups are trusted, repeatable (default [backup] signing_public_keys, else env PYSHIP_BACKUP_SIGNING_PUBLIC_KEYS, comma-separated)")
	f.BoolVar(&o.allowUnsigned, "allow-unsigned", false, "also read the unsigned backups of pyship versions before signed backups (list, verify, restore, drill; prune never counts them): only for backups you know you took")
	f.StringArrayVar(&o.dirs, "source", nil, "folder to back up, [NAME=]DIR, repeatable (any source flag replaces the project's sources)")
	f.StringArrayVar(&o.postgres, "postgres", nil, "PostgreSQL database to back up, [NAME=]DSN or [NAME=]env:VAR (the variable holding the DSN), repeatable")
	f.StringArrayVar(&o.sqlite, "sqlite", nil, "SQLite file to back up, [NAME=]FILE, repeatable")
	o.out.registerPersistent(cmd)
	cmd.AddCommand(newBackupNowCmd(s, o), newBackupListCmd(s, o), newBackupVerifyCmd(s, o), newBackupRestoreCmd(s, o),
		newBackupPruneCmd(s, o), newBackupDrillCmd(s, o), newBackupKeygenCmd(s, o), newBackupAdoptCmd(s, o))
	return cmd
}

// What a backup client is built for: reading backups, taking one (the sources are said, the
// signing key added and the settings checked), or signing existing ones (the key added).
const (
	forReading = iota
	forTaking
	forSigning
)

// client builds the backup client with progress lines on stderr, for use (forReading, ...).
func (o *backupOptions) client(cmd *cobra.Command, s *streams, use int) (*backup.Client, backup.Config, error) {
	cfg, from, err := o.config(cmd.Context(), cmd)
	if err != nil {
		return nil, cfg, err
	}
	if use == forTaking && from != "" {
		fmt.Fprintf(s.Err, "sources: %s\n", from)
	}
	if use != forReading {
		if err := o.signingKey(&cfg); err != nil {
			return nil, cfg, err
		}
	}
	if use == forTaking {
		if err := cfg.Validate(); err != nil {
			return nil, cfg, usageError{err}
		}
	}
	c, err := o.newClient(s, cfg)
	return c, cfg, err
}

func (o *backupOptions) newClient(s *streams, cfg backup.Config) (*backup.Client, error) {
	c, err := backup.New(cfg, backup.WithVersion(version.String()), backup.WithProgress(func(e backup.Event) {
		fmt.Fprintln(s.Err, platform.BackupProgressLine(e))
	}))
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

// result prints v as JSON, or text as lines.
func (o *backupOptions) result(s *streams, v any, text string) error {
	if o.out.json() {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := fmt.Fprint(s.Out, text)
	return err
}

func idArg(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return "latest"
}

// projectArgs takes the project folder DIR from args, after the n arguments the verb takes
// first (the backup ID), and returns those (see projectDirArg); DIR and --dir are one choice.
func (o *backupOptions) projectArgs(cmd *cobra.Command, args []string, n int) ([]string, error) {
	if len(args) > n && cmd.Flags().Changed("dir") {
		return nil, usageError{fmt.Errorf("the project is named twice: DIR %s and --dir %s; keep one", args[n], o.dir)}
	}
	dir, rest, err := projectDirArg(args, n)
	if err == nil && dir != "" {
		o.dir, o.dirGiven = dir, true
	}
	return rest, err
}

func newBackupNowCmd(s *streams, o *backupOptions) *cobra.Command {
	var release, webhook string
	var prune bool
	cmd := &cobra.Command{
		Use: "now [DIR]", Short: "Take a backup now", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := o.projectArgs(cmd, args, 0); err != nil {
				return err
			}
			id, err := backupNow(cmd, s, o, release, prune)
			if err != nil && webhook != "" {
				// A scheduled run (the Kubernetes CronJob) has nobody watching its output.
				text := fmt.Sprintf(":x: backup of %s failed: %v", firstSet(o.dest, "the app"), err)
				if werr := notify.Webhook(context.WithoutCancel(cmd.Context()), webhook, text, [][2]string{{"backup", firstSet(id, "-")}, {"phase", "BackupFailed"}}); werr != nil {
					fmt.Fprintf(s.Err, "warning: %v\n", werr)
				}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&release, "release", "", "tag the backup with a release")
	cmd.Flags().BoolVar(&prune, "prune", false, "then delete the backups the retention (--keep-*) does not keep")
	cmd.Flags().StringVar(&webhook, "notify-webhook", s.getenv("PYSHIP_NOTIFY_WEBHOOK"), "post a Slack-compatible message here when the backup fails (env PYSHIP_NOTIFY_WEBHOOK)")
	retentionFlags(cmd, o)
	return cmd
}

// backupNow takes a backup, then prunes when asked, as a scheduled backup does: the retention
// applies once the new backup counts. It returns the backup's ID, "" when none completed.
func backupNow(cmd *cobra.Command, s *streams, o *backupOptions, release string, prune bool) (string, error) {
	c, cfg, err := o.client(cmd, s, forTaking)
	if err != nil {
		return "", err
	}
	m, err := c.Now(cmd.Context(), backup.NowOptions{Release: release})
	if err != nil {
		return "", err
	}
	if prune && cfg.Retention != (backup.Retention{}) {
		if err := cfg.Retention.Validate(); err != nil {
			return m.ID, usageError{err}
		}
		res, err := c.Prune(cmd.Context(), cfg.Retention, time.Local, false)
		if err != nil {
			return m.ID, fmt.Errorf("backup %s is complete; pruning after it: %w", m.ID, err)
		}
		fmt.Fprintf(s.Err, "backup %s: pruned %d backup(s) the retention does not keep\n", m.ID, len(res.Deleted))
	}
	return m.ID, o.result(s, m, m.ID+"\n")
}

func newBackupListCmd(s *streams, o *backupOptions) *cobra.Command {
	return &cobra.Command{
		Use: "list [DIR]", Short: "List complete backups, newest first", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := o.projectArgs(cmd, args, 0); err != nil {
				return err
			}
			c, _, err := o.client(cmd, s, forReading)
			if err != nil {
				return err
			}
			l, err := c.List(cmd.Context())
			if err != nil {
				return err
			}
			var b strings.Builder
			for _, m := range l.Backups {
				var names []string
				for _, src := range m.Sources {
					names = append(names, src.Name)
				}
				mark := ""
				if m.ID == l.Latest {
					mark = " (latest)"
				}
				fmt.Fprintf(&b, "%s  %s  %10s  %s  %s%s\n", m.ID, m.Created.Format(time.RFC3339), progress.Bytes(m.Size()),
					strings.Join(names, ","), firstSet(m.Release, "-"), mark)
			}
			for _, id := range l.Incomplete {
				fmt.Fprintf(s.Err, "incomplete: %s (interrupted; prune removes it)\n", id)
			}
			for _, r := range l.Rejected {
				fmt.Fprintf(s.Err, "rejected: %s\n", r.Reason)
			}
			if l.LatestProblem != "" {
				fmt.Fprintf(s.Err, "rejected: %s\n", l.LatestProblem)
			}
			return o.result(s, l, b.String())
		},
	}
}

func newBackupVerifyCmd(s *streams, o *backupOptions) *cobra.Command {
	return &cobra.Command{
		Use: "verify [ID|latest] [DIR]", Short: "Download, decrypt and check every hash of a backup without restoring", Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			args, err := o.projectArgs(cmd, args, 1)
			if err != nil {
				return err
			}
			c, _, err := o.client(cmd, s, forReading)
			if err != nil {
				return err
			}
			ids, err := backup.ReadIdentities(o.identityFile)
			if err != nil {
				return usageError{err}
			}
			res, err := c.Verify(cmd.Context(), idArg(args), ids)
			if err != nil {
				return err
			}
			return o.result(s, res, fmt.Sprintf("%s ok (%s, %s)\n", res.ID, progress.Bytes(res.Bytes), time.Duration(res.Duration).Round(time.Millisecond)))
		},
	}
}

func newBackupRestoreCmd(s *streams, o *backupOptions) *cobra.Command {
	var to string
	var force, keepSetID bool
	var sources []string
	cmd := &cobra.Command{
		Use: "restore [ID|latest] [DIR]", Short: "Restore a backup in place, or --to another folder, file or database", Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			args, err := o.projectArgs(cmd, args, 1)
			if err != nil {
				return err
			}
			c, _, err := o.client(cmd, s, forReading)
			if err != nil {
				return err
			}
			ids, err := backup.ReadIdentities(o.identityFile)
			if err != nil {
				return usageError{err}
			}
			res, err := c.Restore(cmd.Context(), idArg(args), backup.RestoreOptions{Sources: sources, To: to, Identities: ids, Force: force, KeepSetID: keepSetID})
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Err, "restored backup %s (taken %s)\n", res.ID, res.Created.Local().Format(time.RFC3339))
			var b strings.Builder
			for name, t := range res.Targets {
				fmt.Fprintf(&b, "%s -> %s\n", name, t)
			}
			return o.result(s, res, b.String())
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "restore into this folder, SQLite file or PostgreSQL DSN instead of in place")
	cmd.Flags().StringArrayVar(&sources, "only", nil, "restore only this source (by name), repeatable")
	cmd.Flags().BoolVar(&force, "force", false, "let --to replace an existing file or non-empty folder")
	cmd.Flags().BoolVar(&keepSetID, "keep-setid", false, "restore the setuid and setgid bits of files and folders (dropped otherwise)")
	return cmd
}

func newBackupPruneCmd(s *streams, o *backupOptions) *cobra.Command {
	var dry bool
	cmd := &cobra.Command{
		Use: "prune [DIR]", Short: "Delete the backups the retention does not keep", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := o.projectArgs(cmd, args, 0); err != nil {
				return err
			}
			c, cfg, err := o.client(cmd, s, forReading)
			if err != nil {
				return err
			}
			if err := cfg.Retention.Validate(); err != nil {
				return usageError{err}
			}
			res, err := c.Prune(cmd.Context(), cfg.Retention, time.Local, dry)
			if err != nil {
				return err
			}
			var b strings.Builder
			for _, d := range res.Decisions {
				verdict := "delete"
				if d.Keep {
					verdict = "keep (" + strings.Join(d.Reasons, ", ") + ")"
				}
				fmt.Fprintf(&b, "%s %s\n", d.ID, verdict)
			}
			for _, id := range res.Incomplete {
				fmt.Fprintf(&b, "%s delete (incomplete)\n", id)
			}
			return o.result(s, res, b.String())
		},
	}
	cmd.Flags().BoolVar(&dry, "dry-run", false, "only say what would be deleted")
	retentionFlags(cmd, o)
	return cmd
}

// retentionFlags are the --keep-* flags of prune and now --prune (over [backup] keep_*).
func retentionFlags(cmd *cobra.Command, o *backupOptions) {
	cmd.Flags().IntVar(&o.keepLast, "keep-last", 0, "keep the newest N backups")
	cmd.Flags().IntVar(&o.keepDaily, "keep-daily", 0, "keep the newest backup of each of the last N days")
	cmd.Flags().IntVar(&o.keepWeekly, "keep-weekly", 0, "keep the newest backup of each of the last N weeks")
}

func newBackupDrillCmd(s *streams, o *backupOptions) *cobra.Command {
	var opts backup.DrillOptions
	cmd := &cobra.Command{
		Use: "drill [ID|latest] [DIR]", Short: "Restore into a scratch place and report the recovery point and time", Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			args, err := o.projectArgs(cmd, args, 1)
			if err != nil {
				return err
			}
			c, _, err := o.client(cmd, s, forReading)
			if err != nil {
				return err
			}
			if opts.Identities, err = backup.ReadIdentities(o.identityFile); err != nil {
				return usageError{err}
			}
			rep, err := c.Drill(cmd.Context(), idArg(args), opts)
			if err != nil {
				return err
			}
			text := fmt.Sprintf("backup %s: restored %s in %s; recovery point %s old\n", rep.ID, progress.Bytes(rep.Bytes),
				time.Duration(rep.RecoveryTime).Round(time.Millisecond), time.Duration(rep.RecoveryPoint).Round(time.Second))
			for _, src := range rep.Sources {
				text += fmt.Sprintf("  %s: %s %s\n", src.Name, src.Result, src.Target)
			}
			return o.result(s, rep, text)
		},
	}
	cmd.Flags().StringVar(&opts.Scratch, "scratch", "", "folder to restore into (default: a temporary folder, removed after)")
	cmd.Flags().StringVar(&opts.ScratchPostgres, "scratch-postgres", "", "DSN of a scratch database for PostgreSQL sources (without it they are only verified)")
	return cmd
}

func newBackupAdoptCmd(s *streams, o *backupOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "adopt ID [DIR]",
		Short: "Sign an unsigned backup of an earlier pyship, after checking every object, so it counts again",
		Long: `Backups taken before signed backups are unsigned: they are rejected unless --allow-unsigned.
adopt checks every object of backup ID against its manifest (as verify does, with
--identity-file), then signs the manifest with the signing key (--signing-key-file or
PYSHIP_BACKUP_SIGNING_KEY): from then on it is listed, restored and pruned like any signed
backup. Adopt only backups you know you took: the checks prove the objects match the manifest,
not who wrote both (see ` + "`pyship backup list --allow-unsigned`" + `).`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			args, err := o.projectArgs(cmd, args, 1)
			if err != nil {
				return err
			}
			c, _, err := o.client(cmd, s, forSigning)
			if err != nil {
				return err
			}
			ids, err := backup.ReadIdentities(o.identityFile)
			if err != nil {
				return usageError{err}
			}
			m, err := c.Adopt(cmd.Context(), args[0], ids)
			if err != nil {
				return err
			}
			return o.result(s, m, fmt.Sprintf("%s signed by %s\n", m.ID, m.SignedBy))
		},
	}
}

func newBackupKeygenCmd(s *streams, o *backupOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "keygen",
		Short: "Make an age identity (--identity-file) and/or a signing key (--signing-key-file) and print their public halves",
		Long: `keygen makes the keys backups need, each in a new file (mode 0600; an existing file is
never replaced), and prints the public halves to put in the spec:

  --identity-file FILE     an age identity; its public key goes in [backup] recipients. The
                           identity restores: keep it on your machine.
  --signing-key-file FILE  an Ed25519 signing key; its public half goes in [backup]
                           signing_public_keys. The private half signs every backup: give it to
                           what takes backups (the agent reads PYSHIP_BACKUP_SIGNING_KEY from the
                           app's secrets file; on Kubernetes the Secret APP-backup-signing), never
                           to the bucket.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			makeIdentity, makeSigning := cmd.Flags().Changed("identity-file"), cmd.Flags().Changed("signing-key-file")
			if !makeIdentity && !makeSigning {
				return usageError{errors.New("keygen needs --identity-file FILE (the age key pair) and/or --signing-key-file FILE (the signing key pair); both stay on this machine")}
			}
			res := map[string]string{}
			var text strings.Builder
			if makeIdentity {
				r, err := backup.GenerateIdentity(o.identityFile)
				if err != nil {
					return err
				}
				res["recipient"], res["identityFile"] = r, o.identityFile
				fmt.Fprintln(&text, r)
			}
			if makeSigning {
				pub, err := backup.GenerateSigningKey(o.signingKeyFile)
				if err != nil {
					return err
				}
				res["signingPublicKey"], res["signingKeyFile"] = pub, o.signingKeyFile
				fmt.Fprintln(&text, pub)
			}
			return o.result(s, res, text.String())
		},
	}
}

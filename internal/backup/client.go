package backup

import (
	"fmt"
	"os"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/pyship/pyship/internal/clock"
)

// Client takes, lists, verifies, restores and prunes the backups of one destination.
type Client struct {
	cfg      Config
	store    Store
	lay      layout
	now      func() time.Time
	progress func(Event)
	version  string
	tools    Tools
	verify   verifier
}

// Tools are the external programs used for PostgreSQL; empty names are looked up on $PATH.
type Tools struct {
	PgDump, PgRestore string
}

// Event is a progress report; library code never prints, the caller decides.
type Event struct {
	// Kind is "start", "source", "done", "skip", "abort", "delete" or "warn".
	Kind   string
	ID     string
	Source string
	Bytes  int64
	Msg    string
}

// Option configures a Client.
type Option func(*Client)

// WithStore uses store instead of connecting to cfg.Destination.
func WithStore(s Store) Option { return func(c *Client) { c.store = s } }

// WithClock sets the clock (the wall clock by default).
func WithClock(clk clock.Clock) Option { return func(c *Client) { c.now = clk.Now } }

// WithProgress receives progress events.
func WithProgress(f func(Event)) Option { return func(c *Client) { c.progress = f } }

// WithVersion sets the pyship version written into manifests.
func WithVersion(v string) Option { return func(c *Client) { c.version = v } }

// WithTools sets the paths of pg_dump and pg_restore.
func WithTools(t Tools) Option { return func(c *Client) { c.tools = t } }

// New returns a Client for cfg.Destination. Only the destination is required here; each
// operation checks what else it needs.
func New(cfg Config, opts ...Option) (*Client, error) {
	loc, err := ParseDestination(cfg.Destination)
	if err != nil {
		if cfg.Destination == "" {
			return nil, fmt.Errorf("backup destination is not set: set [backup] destination or --dest (s3://bucket/prefix)")
		}
		return nil, err
	}
	keys, err := ParsePublicKeys(cfg.SigningPublicKeys)
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, lay: layout{prefix: loc.Prefix}, now: time.Now, progress: func(Event) {}, version: "dev",
		verify: verifier{keys: keys, prefix: loc.Prefix}}
	for _, o := range opts {
		o(c)
	}
	if c.store == nil {
		if c.store, err = NewS3Store(cfg); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// ReadIdentities reads age identities (AGE-SECRET-KEY-1...) from a file that stays on the
// user's machine.
func ReadIdentities(file string) ([]age.Identity, error) {
	if file == "" {
		return nil, fmt.Errorf("no age identity given: pass --identity-file or set PYSHIP_BACKUP_IDENTITY_FILE to the file holding AGE-SECRET-KEY-1")
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading the age identity: %w", err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("reading the age identity %s: %v: want lines of AGE-SECRET-KEY-1... (age-keygen output)", file, err)
	}
	return ids, nil
}

// redactDSN drops the password from a PostgreSQL DSN for the manifest.
func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if user, _, ok := strings.Cut(rest[:at], ":"); ok {
				return dsn[:i+3] + user + ":xxxxx" + rest[at:]
			}
		}
		return dsn
	}
	var out []string
	for _, f := range strings.Fields(dsn) {
		if strings.HasPrefix(f, "password=") {
			f = "password=xxxxx"
		}
		out = append(out, f)
	}
	return strings.Join(out, " ")
}

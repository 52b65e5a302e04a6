package backup

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"

	"filippo.io/age"
)

// Kind is the kind of a backup source.
type Kind string

// The kinds of source a backup can hold.
const (
	KindDir      Kind = "dir"      // a folder, archived as tar (owners, modes, symlinks, mtimes)
	KindPostgres Kind = "postgres" // a PostgreSQL database, through pg_dump --format=custom
	KindSQLite   Kind = "sqlite"   // a SQLite file, through VACUUM INTO (consistent while the app writes)
)

// Config is what a backup needs; the spec's [backup] table and the CLI flags fill it.
type Config struct {
	// Destination is "s3://bucket/prefix" (prefix optional).
	Destination string
	// Endpoint is the S3 endpoint URL, e.g. "http://127.0.0.1:7070"; "" uses
	// $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, endpoint_url of the AWS config file's profile
	// ($AWS_CONFIG_FILE or ~/.aws/config), then https://s3.amazonaws.com.
	Endpoint string
	// Region is the bucket's region; "" uses $AWS_REGION, $AWS_DEFAULT_REGION, region of the
	// AWS config file's profile, then "us-east-1".
	Region string
	// Credentials are explicit keys (e.g. from the secrets file); when empty, the environment
	// ($AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY/$AWS_SESSION_TOKEN) then the AWS shared
	// credentials file (profile Profile or $AWS_PROFILE) are used.
	Credentials Credentials
	Profile     string
	// Recipients are age public keys ("age1...") that backups are encrypted to. Only public keys
	// are needed to take a backup; the identity (private key) stays with the user.
	Recipients []string
	// SigningKey is the private half of the Ed25519 key that signs every backup (needed to
	// take one; ParseSigningKey's format). It never goes to the bucket.
	SigningKey string
	// SigningPublicKeys are the pinned public halves: a backup counts (listed, verified,
	// restored, drilled, pruned) only when one of them signed it. Several allow rotation.
	SigningPublicKeys []string
	// AllowUnsigned lets list, verify, restore and drill read the unsigned backups of earlier
	// pyship versions. Prune never counts or deletes them.
	AllowUnsigned bool
	// Sources are what each backup holds.
	Sources []Source
	// Retention decides what prune keeps.
	Retention Retention
	// Schedule is a cron expression ("0 3 * * *", "@daily") for the agent; "" means no schedule.
	Schedule string
	// PartSize is the multipart part size in bytes (default 5 MiB, at least 5 MiB; it grows past 1,000 parts).
	PartSize int64
	// Concurrency is the number of parts uploaded at once (default 2). Memory for upload
	// buffers is (Concurrency+1) × PartSize.
	Concurrency int
	// Getenv reads the environment for what the fields above leave to it: the S3 endpoint,
	// region, keys and profile (AWS_*, MINIO_*) and the AWS files under HOME. os.Getenv when
	// nil; the CLI passes its own.
	Getenv func(string) string `json:"-"`
}

// Credentials are explicit S3 keys.
type Credentials struct {
	AccessKey, SecretKey, SessionToken string
}

// Source is one thing a backup holds.
type Source struct {
	// Name identifies the source inside a backup (letters, digits, '-', '_', '.'), e.g. "data", "db".
	Name string
	Kind Kind
	// Path is the folder (KindDir) or the database file (KindSQLite).
	Path string
	// DSN is the PostgreSQL connection string (KindPostgres), e.g. "postgres://u:p@host:5432/db".
	DSN string
}

// Retention is how many backups prune keeps: the newest Last, plus the newest of each of the
// last Daily days and Weekly ISO weeks that have a backup.
type Retention struct {
	Last, Daily, Weekly int
}

// DefaultPartSize is the multipart part size used when Config.PartSize is 0.
const DefaultPartSize = 5 << 20

const minPartSize = 5 << 20

// Location is a parsed destination.
type Location struct {
	Bucket, Prefix string
}

// ParseDestination parses "s3://bucket/prefix".
func ParseDestination(dest string) (Location, error) {
	u, err := url.Parse(dest)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return Location{}, fmt.Errorf("backup destination %q: want s3://bucket/prefix", dest)
	}
	p := strings.Trim(path.Clean("/"+u.Path), "/")
	return Location{Bucket: u.Host, Prefix: p}, nil
}

// Validate checks the settings needed to take a backup (retention is checked by Prune).
func (c Config) Validate() error {
	var errs []error
	if c.Destination == "" {
		errs = append(errs, errors.New("backup destination is not set: set [backup] destination or --dest (s3://bucket/prefix)"))
	} else if _, err := ParseDestination(c.Destination); err != nil {
		errs = append(errs, err)
	}
	if _, err := ParseRecipients(c.Recipients); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.signer(); err != nil {
		errs = append(errs, err)
	}
	if len(c.Sources) == 0 {
		errs = append(errs, errors.New("backup has no sources: set [backup] sources or --source/--postgres/--sqlite"))
	}
	seen := map[string]bool{}
	for i, s := range c.Sources {
		if err := s.validate(); err != nil {
			errs = append(errs, fmt.Errorf("backup source %d: %w", i+1, err))
		}
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("backup source name %q is used twice: give each source its own name", s.Name))
		}
		seen[s.Name] = true
	}
	if c.PartSize != 0 && c.PartSize < minPartSize {
		errs = append(errs, fmt.Errorf("backup part size %d is below S3's minimum of 5 MiB", c.PartSize))
	}
	if c.Concurrency < 0 || c.Concurrency > 32 {
		errs = append(errs, fmt.Errorf("backup concurrency %d: want 1-32", c.Concurrency))
	}
	return errors.Join(errs...)
}

// signer parses the signing key and checks that its public half is pinned (when any is).
func (c Config) signer() (SigningKey, error) {
	if strings.TrimSpace(c.SigningKey) == "" {
		return SigningKey{}, errors.New("backup has no signing key: make one with `pyship backup keygen --signing-key-file FILE`, pin its public half in [backup] signing_public_keys, and give the private half to what takes backups (--signing-key-file, $PYSHIP_BACKUP_SIGNING_KEY_FILE, or PYSHIP_BACKUP_SIGNING_KEY in the environment or the app's secrets file)")
	}
	k, err := ParseSigningKey(c.SigningKey)
	if err != nil {
		return k, err
	}
	pins, err := ParsePublicKeys(c.SigningPublicKeys)
	if err != nil {
		return k, err
	}
	if len(pins) == 0 {
		return k, nil
	}
	for _, p := range pins {
		if encodePublicKey(p) == k.PublicKey() {
			return k, nil
		}
	}
	return k, fmt.Errorf("the backup signing key's public half %s is not among [backup] signing_public_keys: backups it signs would be refused; pin it there (several keys may be pinned while rotating)", k.PublicKey())
}

// Validate checks that a retention keeps at least one backup.
func (r Retention) Validate() error {
	if r.Last < 0 || r.Daily < 0 || r.Weekly < 0 {
		return fmt.Errorf("backup retention %+v: counts must not be negative", r)
	}
	if r.Last+r.Daily+r.Weekly == 0 {
		return errors.New("backup retention keeps nothing: set [backup] keep_last (at least 1), keep_daily or keep_weekly")
	}
	return nil
}

func (s Source) validate() error {
	if !validName(s.Name) {
		return fmt.Errorf("name %q: use 1-64 letters, digits, '-', '_' or '.'", s.Name)
	}
	switch s.Kind {
	case KindDir, KindSQLite:
		if s.Path == "" {
			return fmt.Errorf("%s source %q has no path", s.Kind, s.Name)
		}
	case KindPostgres:
		if s.DSN == "" {
			return fmt.Errorf("postgres source %q has no DSN: set it from a secret (e.g. DATABASE_URL)", s.Name)
		}
	default:
		return fmt.Errorf("source %q has kind %q: want dir, postgres or sqlite", s.Name, s.Kind)
	}
	return nil
}

func validName(n string) bool {
	if n == "" || len(n) > 64 || n == "." || n == ".." {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// ParseRecipients parses age public keys; at least one is required.
func ParseRecipients(keys []string) ([]age.Recipient, error) {
	if len(keys) == 0 {
		return nil, errors.New("backup has no encryption recipients: set [backup] recipients or --recipient to an age public key (age1...; make one with age-keygen or `pyship backup keygen`)")
	}
	var rs []age.Recipient
	for _, k := range keys {
		r, err := age.ParseX25519Recipient(strings.TrimSpace(k))
		if err != nil {
			return nil, fmt.Errorf("backup recipient %q is not an age public key (age1...): %v", k, err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

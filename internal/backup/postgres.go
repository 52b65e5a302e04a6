package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// pgDump streams `pg_dump --format=custom` of dsn into w. pg_dump reads one snapshot, so the
// dump is consistent while the app writes. Its own compression is off: zstd follows.
func (c *Client) pgDump(ctx context.Context, dsn string, w io.Writer) error {
	bin, err := lookTool(c.tools.PgDump, "pg_dump")
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, "--format=custom", "--compress=0", "--no-password", "--dbname="+dsn)
	var stderr tailBuffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("pg_dump of %s: %v: %s", redactDSN(dsn), err, stderr.String())
	}
	return nil
}

// pgRestore runs `pg_restore --single-transaction` into dsn, fed by stream. When stream
// fails (a corrupt or truncated backup), pg_restore is killed before it sees the end of its
// input, so the transaction never commits.
func (c *Client) pgRestore(ctx context.Context, dsn string, stream func(consume func(r io.Reader) error) error) error {
	bin, err := lookTool(c.tools.PgRestore, "pg_restore")
	if err != nil {
		return err
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, "--clean", "--if-exists", "--no-owner", "--no-acl", "--single-transaction",
		"--exit-on-error", "--no-password", "--dbname="+dsn)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	var stderr tailBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting pg_restore: %w", err)
	}
	// The decryption chain checks every chunk before handing it on, and the last chunk
	// before EOF; stdin is closed (EOF for pg_restore) only once the whole stream passed.
	serr := stream(func(r io.Reader) error {
		_, err := io.Copy(stdin, r)
		return err
	})
	if serr != nil {
		cancel()
		_ = cmd.Wait()
		if msg := stderr.String(); msg != "" && !errors.Is(serr, ErrCorrupt) && !errors.Is(serr, ErrWrongKey) {
			return fmt.Errorf("%w (pg_restore: %s)", serr, msg)
		}
		return serr
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("pg_restore into %s: %v: %s", redactDSN(dsn), err, stderr.String())
	}
	return nil
}

func lookTool(path, name string) (string, error) {
	if path == "" {
		path = name
	}
	bin, err := exec.LookPath(path)
	if err != nil {
		return "", fmt.Errorf("%s not found: install the PostgreSQL client (Debian: apt-get install postgresql-client) or put %s on PATH", name, name)
	}
	return bin, nil
}

// tailBuffer keeps the last 4 KiB written to it (a child's stderr).
type tailBuffer struct{ b bytes.Buffer }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b.Write(p)
	if t.b.Len() > 8<<10 {
		rest := t.b.Bytes()[t.b.Len()-4<<10:]
		t.b.Reset()
		t.b.Write(rest)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return strings.TrimSpace(t.b.String()) }

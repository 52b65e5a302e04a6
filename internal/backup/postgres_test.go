package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/testsvc"
)

func psql(t *testing.T, ctx context.Context, dsn, sql string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, "psql", "-v", "ON_ERROR_STOP=1", "-Atq", "--no-psqlrc", dsn, "-c", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %q: %v\n%s", sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

func withDB(dsn, db string) string {
	base, q, _ := strings.Cut(dsn, "?")
	return base[:strings.LastIndex(base, "/")+1] + db + "?" + q
}

func TestPostgresWhileWriting(t *testing.T) {
	s := startS3(t)
	pg := testsvc.Start(t, "postgres")["PYSHIP_TEST_PG_DSN"]
	ctx := testCtx(t, 3*time.Minute)
	name := "app_" + randHex(t, 4)
	psql(t, ctx, pg, "CREATE DATABASE "+name)
	psql(t, ctx, pg, "CREATE DATABASE "+name+"_r")
	t.Cleanup(func() {
		psql(t, context.Background(), pg, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		psql(t, context.Background(), pg, "DROP DATABASE IF EXISTS "+name+"_r WITH (FORCE)")
	})
	app, restored := withDB(pg, name), withDB(pg, name+"_r")
	psql(t, ctx, app, "CREATE TABLE events (id bigserial PRIMARY KEY, payload text NOT NULL); "+
		"INSERT INTO events (payload) SELECT md5(g::text) FROM generate_series(1, 50000) g")

	// The app keeps inserting (one transaction per row) through the whole backup.
	wctx, stopWriter := context.WithCancel(ctx)
	writer := exec.CommandContext(wctx, "psql", "-q", "--no-psqlrc", app)
	stdin, err := writer.StdinPipe()
	must(t, err)
	must(t, writer.Start())
	writerDone := make(chan error, 1)
	go func() {
		for i := 0; wctx.Err() == nil; i++ {
			if _, err := fmt.Fprintf(stdin, "INSERT INTO events (payload) VALUES (md5('w%d'));\n", i); err != nil {
				writerDone <- err
				return
			}
		}
		stdin.Close()
		writerDone <- nil
	}()
	waitRows := func(min int) int {
		deadline := time.Now().Add(30 * time.Second)
		for {
			n, _ := strconv.Atoi(psql(t, ctx, app, "SELECT count(*) FROM events"))
			if n >= min {
				return n
			}
			if time.Now().After(deadline) {
				t.Fatalf("the writer did not reach %d rows (at %d)", min, n)
			}
		}
	}
	before := waitRows(50100)

	cfg, ids := testConfig(t, s, Source{Name: "db", Kind: KindPostgres, DSN: app})
	c := newClient(t, cfg)
	m, err := c.Now(ctx, NowOptions{})
	must(t, err)
	if strings.Contains(m.Sources[0].Origin, "pyshiptest") {
		t.Fatalf("the manifest holds the database password: %s", m.Sources[0].Origin)
	}
	after := waitRows(before + 100) // the app went on writing after the snapshot
	stopWriter()
	<-writerDone
	_ = writer.Wait()

	if _, err := c.Restore(ctx, m.ID, RestoreOptions{To: restored, Identities: ids}); err != nil {
		t.Fatal(err)
	}
	got, _ := strconv.Atoi(psql(t, ctx, restored, "SELECT count(*) FROM events"))
	if got < before || got > after {
		t.Fatalf("restored %d rows; want between %d (before the backup) and %d (after)", got, before, after)
	}
	sum := "SELECT count(*), max(id), md5(string_agg(payload, ',' ORDER BY id)) FROM events WHERE id <= %d"
	maxID := psql(t, ctx, restored, "SELECT max(id) FROM events")
	id, _ := strconv.Atoi(maxID)
	if a, b := psql(t, ctx, app, fmt.Sprintf(sum, id)), psql(t, ctx, restored, fmt.Sprintf(sum, id)); a != b {
		t.Fatalf("restored rows differ from the app's first rows: app %s, restored %s", a, b)
	}
	// The restored database is writable and its sequence continues after the restored rows.
	psql(t, ctx, restored, "INSERT INTO events (payload) VALUES ('after restore')")

	// A corrupt dump is refused and the target is left untouched.
	loc, _ := ParseDestination(cfg.Destination)
	obj := objectFile(s, cfg, loc.Prefix+"/"+m.ID+"/"+m.Sources[0].Object)
	truncate(t, obj)
	if _, err := c.Restore(ctx, m.ID, RestoreOptions{To: restored, Identities: ids}); err == nil {
		t.Fatal("restore of a truncated dump succeeded")
	}
	if n, _ := strconv.Atoi(psql(t, ctx, restored, "SELECT count(*) FROM events")); n != got+1 {
		t.Fatalf("a failed restore changed the target: %d rows, want %d", n, got+1)
	}
}

func truncate(t *testing.T, p string) {
	t.Helper()
	out, err := exec.Command("truncate", "-s", "-100000", p).CombinedOutput()
	if err != nil {
		t.Fatalf("truncate: %v %s", err, out)
	}
}

// A genuine signed backup whose dump an attacker replaced in the bucket (with a real dump of
// their own, encrypted to the public recipient): pg_restore never starts, so nothing in the
// dump runs with the restoring role's privileges. pg_restore is the real one, behind a
// wrapper that notes that it ran.
func TestReplacedDumpNeverReachesPgRestore(t *testing.T) {
	s := startS3(t)
	pg := testsvc.Start(t, "postgres")["PYSHIP_TEST_PG_DSN"]
	ctx := testCtx(t, 3*time.Minute)
	name := "app_" + randHex(t, 4)
	psql(t, ctx, pg, "CREATE DATABASE "+name)
	psql(t, ctx, pg, "CREATE DATABASE "+name+"_evil")
	t.Cleanup(func() {
		psql(t, context.Background(), pg, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		psql(t, context.Background(), pg, "DROP DATABASE IF EXISTS "+name+"_evil WITH (FORCE)")
	})
	app, evil := withDB(pg, name), withDB(pg, name+"_evil")
	psql(t, ctx, app, "CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders VALUES (1), (2)")
	psql(t, ctx, evil, "CREATE TABLE pwned (id int)")

	real, err := exec.LookPath("pg_restore")
	must(t, err)
	dir := t.TempDir()
	marker := dir + "/pg_restore-ran"
	wrapper := dir + "/pg_restore"
	writeFile(t, wrapper, []byte("#!/bin/sh\ntouch "+marker+"\nexec "+real+" \"$@\"\n"), 0o755)

	cfg, ids := testConfig(t, s, Source{Name: "db", Kind: KindPostgres, DSN: app})
	c := newClient(t, cfg, WithTools(Tools{PgRestore: wrapper}))
	m, err := c.Now(ctx, NowOptions{})
	must(t, err)

	f := newForger(t, cfg)
	var dump strings.Builder
	cmd := exec.CommandContext(ctx, "pg_dump", "--format=custom", "--dbname="+evil)
	cmd.Stdout = &dump
	must(t, cmd.Run())
	f.object(ctx, m.ID, Source{Name: "db", Kind: KindPostgres}, []byte(dump.String()))

	_, err = c.Restore(ctx, m.ID, RestoreOptions{Identities: ids})
	refused(t, "restore of a replaced dump", err, "the manifest says", ErrCorrupt)
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("pg_restore ran on a dump that fails its hashes")
	}
	if got := psql(t, ctx, app, "SELECT count(*) FROM orders"); got != "2" {
		t.Fatalf("orders: %s rows", got)
	}
	if got := psql(t, ctx, app, "SELECT count(*) FROM pg_tables WHERE tablename = 'pwned'"); got != "0" {
		t.Fatal("the forged dump's table is in the database")
	}
	// With the object gone, the restore says so, and still runs nothing.
	must(t, c.store.Delete(ctx, c.lay.object(m.ID, m.Sources[0].Object)))
	if _, err := c.Restore(ctx, m.ID, RestoreOptions{Identities: ids}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("restore with the object gone: %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("pg_restore ran without a dump")
	}
}

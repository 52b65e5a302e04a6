package backup

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

func TestSQLiteWhileWriting(t *testing.T) {
	s := startS3(t)
	ctx := testCtx(t, 2*time.Minute)
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
	must(t, err)
	defer db.Close()
	_, err = db.ExecContext(ctx, "CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
	must(t, err)
	insert := func(n int) {
		tx, err := db.BeginTx(ctx, nil)
		must(t, err)
		for range n {
			if _, err := tx.Exec("INSERT INTO events (payload) VALUES (hex(randomblob(32)))"); err != nil {
				t.Error(err)
			}
		}
		must(t, tx.Commit())
	}
	insert(20000)

	wctx, stop := context.WithCancel(ctx)
	done := make(chan int)
	go func() {
		n := 0
		for wctx.Err() == nil {
			if _, err := db.ExecContext(wctx, "INSERT INTO events (payload) VALUES (hex(randomblob(32)))"); err == nil {
				n++
			}
		}
		done <- n
	}()
	count := func(d *sql.DB) int {
		var n int
		must(t, d.QueryRowContext(ctx, "SELECT count(*) FROM events").Scan(&n))
		return n
	}
	deadline := time.Now().Add(20 * time.Second)
	for count(db) < 20100 {
		if time.Now().After(deadline) {
			t.Fatal("the writer made no progress")
		}
	}
	before := count(db)
	cfg, ids := testConfig(t, s, Source{Name: "sqlite", Kind: KindSQLite, Path: path})
	c := newClient(t, cfg)
	m, err := c.Now(ctx, NowOptions{})
	must(t, err)
	stop()
	if n := <-done; n == 0 {
		t.Fatal("the writer wrote nothing")
	}
	after := count(db)

	to := filepath.Join(t.TempDir(), "restored.db")
	_, err = c.Restore(ctx, m.ID, RestoreOptions{To: to, Identities: ids})
	must(t, err)
	rdb, err := sql.Open("sqlite", "file:"+to)
	must(t, err)
	defer rdb.Close()
	var check string
	must(t, rdb.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check))
	got := count(rdb)
	var maxID int
	must(t, rdb.QueryRowContext(ctx, "SELECT max(id) FROM events").Scan(&maxID))
	if check != "ok" || got < before || got > after || maxID != got {
		t.Fatalf("restored: integrity %q, %d rows (max id %d); want ok and %d..%d contiguous rows", check, got, maxID, before, after)
	}
	// The restored rows are exactly the app's first rows.
	q := "SELECT group_concat(payload, ',') FROM (SELECT payload FROM events WHERE id <= ? ORDER BY id)"
	var a, b string
	must(t, db.QueryRowContext(ctx, q, got).Scan(&a))
	must(t, rdb.QueryRowContext(ctx, q, got).Scan(&b))
	if a != b {
		t.Fatal("restored rows differ from the app's")
	}
}

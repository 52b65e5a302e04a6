package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/duration"
	"github.com/pyship/pyship/internal/testsvc"
)

// cliEnv is the environment of one test's pyship runs: the test process's with the test's
// own variables, handed to each run (Main's env), so no test changes the process's with
// t.Setenv and tests may run in parallel.
type cliEnv []string

// testEnv is the test process's environment with kv laid over it (testsvc.WithEnv).
func testEnv(kv ...string) cliEnv { return testsvc.WithEnv(os.Environ(), kv...) }

// with is e with kv laid over it (KEY=VALUE sets, a bare KEY unsets).
func (e cliEnv) with(kv ...string) cliEnv { return testsvc.WithEnv(e, kv...) }

// run runs pyship with args in e, for at most 2 minutes.
func (e cliEnv) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return runIn(t, ctx, e, args...)
}

// s3Env starts the test S3 and returns it with an environment whose AWS_* variables point at
// it and whose backup signing key (private and public half) is a new one.
func s3Env(t *testing.T) (map[string]string, cliEnv) {
	t.Helper()
	v := testsvc.Start(t, "s3")
	pub, key := testSigningKey(t)
	return v, testEnv("AWS_ACCESS_KEY_ID="+v["PYSHIP_TEST_S3_ACCESS_KEY"], "AWS_SECRET_ACCESS_KEY="+v["PYSHIP_TEST_S3_SECRET_KEY"],
		"AWS_ENDPOINT_URL="+v["PYSHIP_TEST_S3_ENDPOINT"], "PYSHIP_BACKUP_SIGNING_KEY="+key, "PYSHIP_BACKUP_SIGNING_PUBLIC_KEYS="+pub,
		"PYSHIP_BACKUP_SIGNING_KEY_FILE", "PYSHIP_BACKUP_DEST", "PYSHIP_BACKUP_RECIPIENTS", "PYSHIP_BACKUP_IDENTITY_FILE")
}

// testSigningKey makes a backup signing key with `pyship backup keygen` and returns its public
// half and its private half (the key line, as a secrets file or variable holds it).
func testSigningKey(t *testing.T) (pub, key string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "signing.key")
	code, out, errs := runCLI(t, "backup", "keygen", "--signing-key-file", file)
	if pub = strings.TrimSpace(out); code != ExitOK || !strings.HasPrefix(pub, "pyship-sign-ed25519:") {
		t.Fatalf("keygen --signing-key-file: %d %q %s", code, out, errs)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return pub, lines[len(lines)-1]
}

func TestBackupCommands(t *testing.T) {
	t.Parallel()
	v, env := s3Env(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(filepath.Join(data, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "sub", "file.txt"), []byte("hello backup\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	identity := filepath.Join(dir, "keys", "backup.key")
	code, out, errs := runCLI(t, "backup", "keygen", "--identity-file", identity)
	recipient := strings.TrimSpace(out)
	if code != ExitOK || !strings.HasPrefix(recipient, "age1") {
		t.Fatalf("keygen: %d %q %s", code, out, errs)
	}
	if fi, err := os.Stat(identity); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity file: %v %v; want mode 0600", fi, err)
	}
	if code, _, errs := runCLI(t, "backup", "keygen", "--identity-file", identity); code != ExitFailure || !strings.Contains(errs, "refusing to overwrite") {
		t.Fatalf("second keygen: %d %s", code, errs)
	}

	dest := "s3://" + v["PYSHIP_TEST_S3_BUCKET"] + "/cli-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	common := []string{"--dest", dest, "--recipient", recipient, "--identity-file", identity, "--source", "data=" + data}

	code, out, errs = env.run(t, append([]string{"backup", "now", "--release", "v7"}, common...)...)
	id := strings.TrimSpace(out)
	if code != ExitOK || len(id) != 21 || !strings.Contains(errs, "complete") {
		t.Fatalf("backup now: %d stdout %q stderr %s", code, out, errs)
	}

	code, out, errs = env.run(t, append([]string{"backup", "list", "--output", "json"}, common...)...)
	var l struct {
		Backups []struct{ ID, Release string }
		Latest  string
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &l) != nil || len(l.Backups) != 1 || l.Backups[0].ID != id || l.Backups[0].Release != "v7" || l.Latest != id {
		t.Fatalf("backup list: %d %s %s", code, out, errs)
	}

	// A manifest without a signature, dropped into the bucket (as an attacker with write access,
	// or a pyship before signed backups, would), is rejected by name and reason.
	forged := "20991231T000000Z-0001"
	prefix := strings.TrimPrefix(dest, "s3://")
	writeTestFile(t, filepath.Join(v["PYSHIP_TEST_S3_DATA"], prefix, forged, "manifest.json"),
		`{"format":1,"id":"`+forged+`","created":"2099-12-31T00:00:00Z","sources":[]}`)
	code, out, errs = env.run(t, append([]string{"backup", "list"}, common...)...)
	if code != ExitOK || strings.Contains(out, forged) || !strings.Contains(errs, "rejected: backup "+forged+": refused: backup is not signed") {
		t.Fatalf("backup list with an unsigned manifest: %d %q %s", code, out, errs)
	}
	if code, _, errs = env.run(t, append([]string{"backup", "restore", forged, "--to", filepath.Join(dir, "forged")}, common...)...); code != ExitFailure || !strings.Contains(errs, "--allow-unsigned") {
		t.Fatalf("restore of an unsigned backup: %d %s", code, errs)
	}
	if code, out, errs = env.run(t, append([]string{"backup", "list", "--allow-unsigned"}, common...)...); code != ExitOK || !strings.Contains(out, forged) {
		t.Fatalf("list --allow-unsigned: %d %q %s", code, out, errs)
	}
	if err := os.RemoveAll(filepath.Join(v["PYSHIP_TEST_S3_DATA"], prefix, forged)); err != nil {
		t.Fatal(err)
	}

	if code, out, errs = env.run(t, append([]string{"backup", "verify", id}, common...)...); code != ExitOK || !strings.HasPrefix(out, id+" ok") {
		t.Fatalf("backup verify: %d %q %s", code, out, errs)
	}

	to := filepath.Join(dir, "restored")
	if code, out, errs = env.run(t, append([]string{"backup", "restore", "--to", to}, common...)...); code != ExitOK {
		t.Fatalf("backup restore: %d %q %s", code, out, errs)
	}
	if b, err := os.ReadFile(filepath.Join(to, "sub", "file.txt")); err != nil || string(b) != "hello backup\n" {
		t.Fatalf("restored file: %q %v", b, err)
	}
	// --to an existing non-empty folder is refused unless --force.
	if err := os.WriteFile(filepath.Join(to, "keep.txt"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs = env.run(t, append([]string{"backup", "restore", "--to", to}, common...)...); code != ExitFailure || !strings.Contains(errs, "pass --force to replace it") {
		t.Fatalf("restore --to a non-empty folder: %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(to, "keep.txt")); err != nil {
		t.Fatalf("a refused restore changed the folder: %v", err)
	}
	if code, _, errs = env.run(t, append([]string{"backup", "restore", "--to", to, "--force"}, common...)...); code != ExitOK {
		t.Fatalf("restore --to --force: %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(to, "keep.txt")); !os.IsNotExist(err) {
		t.Fatalf("restore --force must replace the folder: %v", err)
	}

	code, out, errs = env.run(t, append([]string{"backup", "drill", "-o", "json"}, common...)...)
	var rep struct {
		ID            string
		RecoveryPoint duration.Duration // a string such as "1.2s": raw nanoseconds fail to parse
		RecoveryTime  duration.Duration
		Sources       []struct{ Name, Result string }
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &rep) != nil || rep.ID != id || rep.RecoveryTime <= 0 || rep.RecoveryPoint < 0 ||
		len(rep.Sources) != 1 || rep.Sources[0].Result != "restored" {
		t.Fatalf("backup drill: %d %s %s", code, out, errs)
	}

	// A second backup, then prune keeping the last one.
	if code, _, errs = env.run(t, append([]string{"backup", "now"}, common...)...); code != ExitOK {
		t.Fatalf("second backup now: %d %s", code, errs)
	}
	code, out, errs = env.run(t, append([]string{"backup", "prune", "--keep-last", "1"}, common...)...)
	if code != ExitOK || !strings.Contains(out, id+" delete") {
		t.Fatalf("backup prune: %d %q %s", code, out, errs)
	}

	// Usage errors exit 2 and name the fix; a wrong key exits 1.
	if code, _, errs = env.run(t, "backup", "now", "--recipient", recipient, "--source", data); code != ExitUsage || !strings.Contains(errs, "--dest") {
		t.Fatalf("without --dest: %d %s", code, errs)
	}
	if code, _, errs = env.run(t, append([]string{"backup", "prune"}, common...)...); code != ExitUsage || !strings.Contains(errs, "keep_last") {
		t.Fatalf("prune without retention: %d %s", code, errs)
	}
	other := filepath.Join(dir, "other.key")
	runCLI(t, "backup", "keygen", "--identity-file", other)
	wrong := append(append([]string{"backup", "verify"}, common...), "--identity-file", other)
	if code, _, errs = env.run(t, wrong...); code != ExitFailure || !strings.Contains(errs, "identity does not match") {
		t.Fatalf("verify with the wrong key: %d %s", code, errs)
	}
}

// TestBackupFromTheProjectSpec runs the backup verbs on a project folder (--dir) with a
// [backup] table and no other flags: the project's folders are backed up until the app has a
// local deployment, then its live data.
func TestBackupFromTheProjectSpec(t *testing.T) {
	t.Parallel()
	v, env := s3Env(t)
	home, keys := t.TempDir(), t.TempDir()
	identity := filepath.Join(keys, "backup.key")
	code, out, errs := runCLI(t, "backup", "keygen", "--identity-file", identity)
	if code != ExitOK {
		t.Fatalf("keygen: %d %s", code, errs)
	}
	env = env.with("PYSHIP_HOME="+home, "PYSHIP_BACKUP_IDENTITY_FILE="+identity)
	proj := t.TempDir()
	dest := "s3://" + v["PYSHIP_TEST_S3_BUCKET"] + "/spec-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	writeTestFile(t, filepath.Join(proj, "pyship.toml"), `name = "shop"
[run]
command = "python app.py"
[data]
persistent = ["data"]
[backup]
destination = "`+dest+`"
recipients = ["`+strings.TrimSpace(out)+`"]
keep_last = 1
`)
	writeTestFile(t, filepath.Join(proj, "app.py"), "print('hi')\n")
	writeTestFile(t, filepath.Join(proj, "data", "seed.txt"), "from the project\n")

	// The project is DIR, as every verb takes it (or --dir).
	code, out, errs = env.run(t, "backup", "now", proj)
	if code != ExitOK || !strings.Contains(errs, "sources: the project's folders in "+proj) {
		t.Fatalf("backup now in the project: %d %q %s", code, out, errs)
	}
	first := strings.TrimSpace(out)

	// A local deployment: its release manifest names the live data root.
	live := filepath.Join(home, "apps", "shop", "data")
	writeTestFile(t, filepath.Join(live, "data", "orders.txt"), "live order\n")
	m, _ := json.Marshal(map[string]any{"app": "shop", "id": "r1", "dataDir": live})
	writeTestFile(t, filepath.Join(home, "apps", "shop", "releases", "r1", "release.json"), string(m))
	code, out, errs = env.run(t, "backup", "now", "--dir", proj)
	if code != ExitOK || !strings.Contains(errs, "sources: the live data of the local deployment of shop in "+live) {
		t.Fatalf("backup now with a deployment: %d %q %s", code, out, errs)
	}
	second := strings.TrimSpace(out)
	to := filepath.Join(t.TempDir(), "restored")
	if code, _, errs = env.run(t, "backup", "restore", "latest", proj, "--to", to); code != ExitOK {
		t.Fatalf("restore: %d %s", code, errs)
	}
	if b, err := os.ReadFile(filepath.Join(to, "orders.txt")); err != nil || string(b) != "live order\n" {
		t.Fatalf("the latest backup holds %q, %v; want the live data", b, err)
	}
	// Prune takes keep_last = 1 from the spec; a flag overrides it.
	if code, out, errs = env.run(t, "backup", "prune", "--dry-run", "--keep-last", "2", "--dir", proj); code != ExitOK || strings.Contains(out, "delete") {
		t.Fatalf("prune --keep-last 2: %d %q %s", code, out, errs)
	}
	code, out, errs = env.run(t, "backup", "prune", proj)
	if code != ExitOK || !strings.Contains(out, first+" delete") || !strings.Contains(out, second+" keep") {
		t.Fatalf("prune with the spec's retention: %d %q %s", code, out, errs)
	}
}

func writeTestFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBackupPostgresFromSecrets backs up and restores a database named in [backup] postgres,
// its DSN read from the secrets file.
func TestBackupPostgresFromSecrets(t *testing.T) {
	t.Parallel()
	v, env := s3Env(t)
	pg := testsvc.Start(t, "postgres")["PYSHIP_TEST_PG_DSN"]
	env = env.with("PYSHIP_HOME="+t.TempDir(), "DATABASE_URL")
	psql := func(dsn, sql string) string {
		t.Helper()
		out, err := exec.Command("psql", "-v", "ON_ERROR_STOP=1", "-Atq", "--no-psqlrc", dsn, "-c", sql).CombinedOutput()
		if err != nil {
			t.Fatalf("psql %q: %v\n%s", sql, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	db := "cli_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	psql(pg, "CREATE DATABASE "+db)
	t.Cleanup(func() {
		exec.Command("psql", "--no-psqlrc", pg, "-c", "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)").Run()
	})
	base, q, _ := strings.Cut(pg, "?")
	dsn := base[:strings.LastIndex(base, "/")+1] + db + "?" + q
	psql(dsn, "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders VALUES (1, 'tea'), (2, 'cake')")

	keys := t.TempDir()
	identity := filepath.Join(keys, "backup.key")
	_, out, _ := runCLI(t, "backup", "keygen", "--identity-file", identity)
	secrets := filepath.Join(keys, "shop.env")
	writeTestFile(t, secrets, "DATABASE_URL="+dsn+"\n")
	proj := t.TempDir()
	dest := "s3://" + v["PYSHIP_TEST_S3_BUCKET"] + "/pg-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	writeTestFile(t, filepath.Join(proj, "pyship.toml"), `name = "shop"
[run]
command = "python app.py"
[secrets]
file = "`+secrets+`"
[backup]
destination = "`+dest+`"
recipients = ["`+strings.TrimSpace(out)+`"]
folders = []
postgres = ["db=DATABASE_URL"]
`)
	writeTestFile(t, filepath.Join(proj, "app.py"), "print('hi')\n")

	code, out, errs := env.run(t, "backup", "now", "--dir", proj)
	if code != ExitOK || strings.Contains(out+errs, "pyshiptest") {
		t.Fatalf("backup now: %d %q %s (the password must not be shown)", code, out, errs)
	}
	psql(dsn, "DELETE FROM orders WHERE id = 2")
	if code, _, errs = env.run(t, "backup", "restore", "--dir", proj, "--identity-file", identity); code != ExitOK {
		t.Fatalf("restore in place: %d %s", code, errs)
	}
	if got := psql(dsn, "SELECT string_agg(item, ',' ORDER BY id) FROM orders"); got != "tea,cake" {
		t.Fatalf("after the restore the table holds %q", got)
	}

	// Without the variable anywhere, the error names it and the secrets file.
	writeTestFile(t, secrets, "OTHER=1\n")
	if code, _, errs = env.run(t, "backup", "now", "--dir", proj); code != ExitUsage || !strings.Contains(errs, "takes its DSN from $DATABASE_URL, which is not set in the secrets file "+secrets) {
		t.Fatalf("without DATABASE_URL: %d %s", code, errs)
	}
}

// TestBackupNowPrunesAndNotifies: `backup now --prune` (what the Kubernetes CronJob runs)
// applies the retention after the backup, and a failed run posts to --notify-webhook.
func TestBackupNowPrunesAndNotifies(t *testing.T) {
	t.Parallel()
	v, env := s3Env(t)
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "f.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	identity := filepath.Join(t.TempDir(), "backup.key")
	_, out, _ := runCLI(t, "backup", "keygen", "--identity-file", identity)
	dest := "s3://" + v["PYSHIP_TEST_S3_BUCKET"] + "/prune-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	common := []string{"--dest", dest, "--recipient", strings.TrimSpace(out), "--identity-file", identity, "--source", "data=" + data}
	var ids []string
	for range 3 {
		code, out, errs := env.run(t, append([]string{"backup", "now", "--prune", "--keep-last", "2"}, common...)...)
		if code != ExitOK {
			t.Fatalf("backup now --prune: %d %s", code, errs)
		}
		ids = append(ids, strings.TrimSpace(out))
	}
	code, out, errs := env.run(t, append([]string{"backup", "list", "--output", "json"}, common...)...)
	var l struct{ Backups []struct{ ID string } }
	if code != ExitOK || json.Unmarshal([]byte(out), &l) != nil {
		t.Fatalf("backup list: %d %s", code, errs)
	}
	if len(l.Backups) != 2 || l.Backups[0].ID != ids[2] || l.Backups[1].ID != ids[1] {
		t.Errorf("after 3 backups with --prune --keep-last 2: %+v, want %v", l.Backups, ids[1:])
	}

	got := make(chan string, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}))
	defer hook.Close()
	code, _, errs = env.run(t, "backup", "now", "--dest", "s3://no-such-bucket-pyship/x", "--recipient", common[3], "--source", "data="+data, "--notify-webhook", hook.URL)
	if code == ExitOK {
		t.Fatalf("a backup to a missing bucket succeeded:\n%s", errs)
	}
	select {
	case body := <-got:
		if !strings.Contains(body, "backup of s3://no-such-bucket-pyship/x failed") || !strings.Contains(body, "BackupFailed") {
			t.Errorf("webhook payload: %s", body)
		}
	default:
		t.Errorf("a failed backup posted nothing to --notify-webhook (stderr: %s)", errs)
	}
}

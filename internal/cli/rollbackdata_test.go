package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/testsvc"
)

// TestBackupBeforeDeployAndRollbackWithData deploys with [deploy] backup_before, then rolls
// back with --with-data; a release without a backup, or a failing backup, changes nothing.
func TestBackupBeforeDeployAndRollbackWithData(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := testsvc.Start(t, "s3")
	port := freeTCPPort(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	identity := filepath.Join(t.TempDir(), "backup.key")
	code, out, errs := e.run("backup", "keygen", "--identity-file", identity)
	if code != 0 {
		t.Fatalf("keygen: %d %s", code, errs)
	}
	recipient := strings.TrimSpace(out)
	signingPub, signingKey := testSigningKey(t)
	secrets := filepath.Join(t.TempDir(), "prod.env")
	writeTestFile(t, secrets, "AWS_ACCESS_KEY_ID="+v["PYSHIP_TEST_S3_ACCESS_KEY"]+"\nAWS_SECRET_ACCESS_KEY="+v["PYSHIP_TEST_S3_SECRET_KEY"]+
		"\nPYSHIP_BACKUP_SIGNING_KEY="+signingKey+"\n")
	dest := "s3://" + v["PYSHIP_TEST_S3_BUCKET"] + "/rollback-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	endpoint := v["PYSHIP_TEST_S3_ENDPOINT"]
	edit := func(p *plan.Plan) {
		p.Deploy.Replicas, p.Deploy.BackupBefore = 1, true
		p.SecretsFile = secrets
		p.Data = []plan.DataFolder{{Path: "data", Persistent: true}}
		p.Backup = &plan.Backup{Destination: dest, Endpoint: endpoint, Recipients: []string{recipient}, SigningPublicKeys: []string{signingPub},
			Retention: plan.DefaultRetention, Folders: []string{"data"}}
	}
	live := filepath.Join(e.home, "apps", "cliapp", "data", "data", "orders.txt")
	readLive := func() string {
		b, _ := os.ReadFile(live)
		return string(b)
	}

	code, _, errs = e.deploy(e.project("v1", "", "rolling", port, edit))
	if code != 0 || !strings.Contains(errs, "no release serves yet: nothing to back up before the deploy") {
		t.Fatalf("deploy v1: exit %d:\n%s", code, errs)
	}
	writeTestFile(t, live, "orders of v1\n")
	code, _, errs = e.deploy(e.project("v2", "", "rolling", port, edit))
	if code != 0 || !strings.Contains(errs, "backing up the data of r1 before the deploy") || !strings.Contains(errs, "holds the data of r1") {
		t.Fatalf("deploy v2: exit %d:\n%s", code, errs)
	}
	writeTestFile(t, live, "orders of v2, after a bad migration\n")

	// A failing backup fails the deploy before anything changes.
	broken := func(p *plan.Plan) { edit(p); p.Backup.Endpoint = "http://127.0.0.1:1" }
	code, _, errs = e.deploy(e.project("v3", "", "rolling", port, broken))
	if code != 1 || !strings.Contains(errs, "the backup before the deploy failed, so nothing was changed (r2 still serves)") {
		t.Fatalf("deploy v3 with an unreachable backup: exit %d:\n%s", code, errs)
	}
	if st := e.status(); len(st) != 1 || st[0].Active != "r2" || st[0].Backup == nil || !strings.Contains(st[0].Backup.LastError, "127.0.0.1:1") {
		t.Fatalf("status after the failed backup: %+v", st)
	}
	if _, body, _ := getBody(url); body != "stdlib v2" {
		t.Fatalf("after the failed deploy the app answers %q, want v2", body)
	}
	if _, text, _ := e.run("status"); !strings.Contains(text, "backups: no schedule; last ") || !strings.Contains(text, "last backup error at ") {
		t.Errorf("status text lacks the backup lines:\n%s", text)
	}

	// Forged manifests tagged r1 and r2, newer than any real backup, dropped into the bucket by
	// someone who can write to it: unsigned, so rollback never picks them.
	for i, rel := range []string{"r1", "r2"} {
		id := fmt.Sprintf("20991231T00000%dZ-000%d", i, i)
		writeTestFile(t, filepath.Join(v["PYSHIP_TEST_S3_DATA"], strings.TrimPrefix(dest, "s3://"), id, "manifest.json"),
			`{"format":1,"id":"`+id+`","created":"2099-12-31T00:00:0`+strconv.Itoa(i)+`Z","release":"`+rel+`","sources":[{"name":"data","kind":"dir","origin":"/","object":"data.tar.zst.age"}]}`)
	}

	// rollback --with-data restores the data r1 had (the real backup), then serves r1.
	code, _, errs = e.run("rollback", "--with-data", "--identity-file", identity, "r1")
	if code != 0 || !strings.Contains(errs, "restoring the data of r1 from backup") {
		t.Fatalf("rollback --with-data: exit %d:\n%s", code, errs)
	}
	if got := readLive(); got != "orders of v1\n" {
		t.Fatalf("after rollback --with-data the data holds %q", got)
	}
	if _, body, _ := getBody(url); body != "stdlib v1" {
		t.Fatalf("after the rollback the app answers %q", body)
	}

	// r2 was never backed up before a deploy replaced it: nothing changes.
	code, _, errs = e.run("rollback", "--with-data", "--identity-file", identity, "r2")
	if code != 1 || !strings.Contains(errs, "is tagged with release r2") || !strings.Contains(errs, "nothing was changed") ||
		!strings.Contains(errs, "rejected, e.g. backup 2099") || !strings.Contains(errs, "not signed") {
		t.Fatalf("rollback --with-data r2: exit %d:\n%s", code, errs)
	}
	if st := e.status(); len(st) != 1 || st[0].Active != "r1" || st[0].Stopped || readLive() != "orders of v1\n" {
		t.Fatalf("a refused rollback changed something: %+v, data %q", st, readLive())
	}
}

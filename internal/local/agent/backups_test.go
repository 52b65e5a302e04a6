package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/pyship/pyship/internal/backup"
	"github.com/pyship/pyship/internal/clock"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/testsvc"
)

// jumpClock is the agent's one clock in the scheduled-backup tests. It runs with the wall
// clock from a start the test chooses, so a deploy's polls and timeouts pass in real time as
// they would with clock.Real, and it jumps forward only when told. A sleep of a minute or more
// is a backup schedule waiting for its next slot (the rollout engine sleeps at most its poll,
// 100ms here): it is announced on waits and ends only when fire moves the time to that slot,
// or its context ends.
type jumpClock struct {
	mu     sync.Mutex
	offset time.Duration
	waits  chan clockWait
}

type clockWait struct {
	at time.Time
	ch chan struct{}
}

func newJumpClock(start time.Time) *jumpClock {
	return &jumpClock{offset: time.Until(start), waits: make(chan clockWait, 4)}
}

func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset).UTC()
}

func (c *jumpClock) Sleep(ctx context.Context, d time.Duration) error {
	if d < time.Minute {
		return clock.Real{}.Sleep(ctx, d)
	}
	w := clockWait{at: c.Now().Add(d), ch: make(chan struct{}, 1)}
	select {
	case c.waits <- w:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fire waits for the schedule to wait, then moves the time to that slot and ends the wait.
func (c *jumpClock) fire(t *testing.T) time.Time {
	t.Helper()
	select {
	case w := <-c.waits:
		c.mu.Lock()
		c.offset = w.at.Sub(time.Now())
		c.mu.Unlock()
		w.ch <- struct{}{}
		return w.at
	case <-time.After(30 * time.Second):
		t.Fatal("the backup schedule never waited for its next slot")
	}
	return time.Time{}
}

// tookAt reports whether a backup recorded at got was taken for the slot at: when the clock
// was moved to the slot, before a minute more passed.
func tookAt(got, at time.Time) bool { return !got.Before(at) && got.Sub(at) < time.Minute }

// hookServer records the text of each webhook post.
func hookServer(t *testing.T) (string, func() []string) {
	var mu sync.Mutex
	var texts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct{ Text string }
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &msg)
		mu.Lock()
		texts = append(texts, msg.Text)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), texts...) }
}

// waitBackup polls the app's status until ok holds of its backup status.
func waitBackup(t *testing.T, c *Client, app string, ok func(*BackupStatus) bool) *BackupStatus {
	t.Helper()
	var b *BackupStatus
	testsvc.Eventually(t, 60*time.Second, "the backup status to match", func() error {
		st, err := c.Status(context.Background(), app)
		if err != nil {
			return err
		}
		if len(st) == 1 && st[0].Backup != nil && ok(st[0].Backup) {
			b = st[0].Backup
			return nil
		}
		return fmt.Errorf("status %+v", st)
	})
	return b
}

type backupEnv struct {
	cfg backup.Config
	ids []age.Identity
}

// backupPlan gives p a persistent data folder and a [backup] table to a fresh prefix of the
// test S3, whose keys it puts in the app's secrets file.
func backupPlan(t *testing.T, p *plan.Plan, schedule string) backupEnv {
	t.Helper()
	v := testsvc.Start(t, "s3")
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "signing.key")
	pub, err := backup.GenerateSigningKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(key)), "\n")
	secrets := filepath.Join(t.TempDir(), "secrets.env")
	if err := os.WriteFile(secrets, []byte("AWS_ACCESS_KEY_ID="+v["PYSHIP_TEST_S3_ACCESS_KEY"]+"\nAWS_SECRET_ACCESS_KEY="+v["PYSHIP_TEST_S3_SECRET_KEY"]+
		"\n"+backup.SigningKeyVar+"="+lines[len(lines)-1]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dest := "s3://" + v["PYSHIP_TEST_S3_BUCKET"] + "/agent-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	p.Data = []plan.DataFolder{{Path: "data", Persistent: true}}
	p.SecretsFile = secrets
	p.Backup = &plan.Backup{Schedule: schedule, Destination: dest, Endpoint: v["PYSHIP_TEST_S3_ENDPOINT"],
		Recipients: []string{id.Recipient().String()}, SigningPublicKeys: []string{pub}, Retention: plan.Retention{KeepLast: 2}, Folders: []string{"data"}}
	return backupEnv{cfg: backup.Config{Destination: dest, Endpoint: v["PYSHIP_TEST_S3_ENDPOINT"], SigningPublicKeys: []string{pub},
		Credentials: backup.Credentials{AccessKey: v["PYSHIP_TEST_S3_ACCESS_KEY"], SecretKey: v["PYSHIP_TEST_S3_SECRET_KEY"]}},
		ids: []age.Identity{id}}
}

func (e backupEnv) list(t *testing.T) *backup.Listing {
	t.Helper()
	c, err := backup.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := c.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// restored restores backup id's "data" source into a fresh folder and reads file from it.
func (e backupEnv) restored(t *testing.T, id, file string) string {
	t.Helper()
	c, err := backup.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(t.TempDir(), "restored")
	if _, err := c.Restore(context.Background(), id, backup.RestoreOptions{To: to, Identities: e.ids}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(to, file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestScheduledBackups(t *testing.T) {
	t.Parallel()
	clock := newJumpClock(time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC))
	home := newHome(t)
	c := startAgent(t, home, func(a *Agent) { a.Clock = clock })
	hook, posts := hookServer(t)
	p := stdlibPlan(stdlibApp(t, ""), "1.0", "rolling", port(t))
	p.Deploy.Replicas = 1
	p.NotifyWebhook = hook
	env := backupPlan(t, p, "@hourly")
	m := build(t, home, p)
	deploy(t, c, m)
	live := filepath.Join(m.DataDir, "data")
	if err := os.WriteFile(filepath.Join(live, "orders.txt"), []byte("order 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// The 10:00 slot takes a backup of the live data.
	at := clock.fire(t)
	b := waitBackup(t, c, m.App, func(b *BackupStatus) bool { return b.LastID != "" })
	if !tookAt(b.LastAt, at) || b.Schedule != "@hourly" || b.LastError != "" {
		t.Fatalf("after the first slot: %+v (slot %s)", b, at)
	}
	first := b.LastID
	if got := env.restored(t, first, "orders.txt"); got != "order 1\n" {
		t.Fatalf("the scheduled backup holds %q", got)
	}

	// A deploy with the same backup settings leaves the schedule running (a restart would
	// leave the old scheduler's wait unanswered, and the next slot would never run).
	p2 := *p
	p2.Version = "2.0"
	deploy(t, c, build(t, home, &p2))

	// A failing backup is in the status and posted to the webhook; the last good one stays.
	if err := os.Rename(live, live+".away"); err != nil {
		t.Fatal(err)
	}
	clock.fire(t)
	b = waitBackup(t, c, m.App, func(b *BackupStatus) bool { return b.LastError != "" })
	if b.LastID != first || !strings.Contains(b.LastError, "reading backup source folder") || !b.Next.After(clock.Now()) {
		t.Fatalf("after a failed slot: %+v", b)
	}
	testsvc.Eventually(t, 10*time.Second, "the webhook to get the failed backup", func() error {
		if !strings.Contains(strings.Join(posts(), "\n"), ":x: the scheduled backup of 2026-11-25T11:00:00Z of stdapp failed") {
			return fmt.Errorf("the webhook got %q", posts())
		}
		return nil
	})
	if err := os.Rename(live+".away", live); err != nil {
		t.Fatal(err)
	}

	// Two more slots: the next success clears the error, and prune keeps the newest two.
	last := first
	for range 2 {
		clock.fire(t)
		b = waitBackup(t, c, m.App, func(b *BackupStatus) bool { return b.LastID != last })
		last = b.LastID
	}
	if b.LastError != "" {
		t.Fatalf("a success must clear the last error: %+v", b)
	}
	l := env.list(t)
	if len(l.Backups) != 2 || l.Backups[0].ID != last || l.Latest != last {
		t.Fatalf("with keep_last 2 after 3 backups the destination holds %d: %+v", len(l.Backups), l)
	}

	// Stop ends the schedule; the last results stay in the status.
	if _, err := c.Act(context.Background(), m.App, "stop"); err != nil {
		t.Fatal(err)
	}
	b = waitBackup(t, c, m.App, func(b *BackupStatus) bool { return b.Schedule == "" })
	if b.LastID != last {
		t.Fatalf("after stop: %+v", b)
	}
	if s, err := loadState(release.Paths{Home: home}, m.App); err != nil || s.Backup == nil || s.Backup.LastID != last {
		t.Fatalf("the saved state lacks the backup status: %+v %v", s, err)
	}
}

// TestBackupScheduleSurvivesAgentRestart: an agent that recovers a running app runs its
// schedule again.
func TestBackupScheduleSurvivesAgentRestart(t *testing.T) {
	t.Parallel()
	clock := newJumpClock(time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC))
	home := newHome(t)
	c, _, stop := runAgent(t, home, func(a *Agent) { a.Clock = clock })
	p := stdlibPlan(stdlibApp(t, ""), "1.0", "rolling", port(t))
	p.Deploy.Replicas = 1
	env := backupPlan(t, p, "@hourly")
	m := build(t, home, p)
	deploy(t, c, m)
	select {
	case <-clock.waits: // the first agent's schedule waits for 10:00
	case <-time.After(30 * time.Second):
		t.Fatal("the schedule did not start after the deploy")
	}
	stop()

	c = startAgent(t, home, func(a *Agent) { a.Clock = clock })
	at := clock.fire(t)
	b := waitBackup(t, c, m.App, func(b *BackupStatus) bool { return b.LastID != "" })
	if !tookAt(b.LastAt, at) || b.Schedule != "@hourly" {
		t.Fatalf("after the restart: %+v", b)
	}
	if l := env.list(t); len(l.Backups) != 1 || l.Backups[0].ID != b.LastID {
		t.Fatalf("the destination holds %+v", l.Backups)
	}
}

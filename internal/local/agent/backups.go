package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pyship/pyship/internal/backup"
	"github.com/pyship/pyship/internal/backup/schedule"
	"github.com/pyship/pyship/internal/local/release"
	"github.com/pyship/pyship/internal/notify"
	"github.com/pyship/pyship/internal/version"
)

// BackupStatus is what `pyship status` shows of an app's backups. The last results are kept
// in the app's state, so they survive an agent restart.
type BackupStatus struct {
	// Schedule is the cron expression the agent runs ("" when none runs); Next its next time.
	Schedule string    `json:"schedule,omitempty"`
	Next     time.Time `json:"next,omitzero"`
	// LastID and LastAt are the newest backup the agent took and when it completed.
	LastID string    `json:"lastId,omitempty"`
	LastAt time.Time `json:"lastAt,omitzero"`
	// LastError is the newest failure (scheduled, prune or before a deploy) and its time;
	// cleared by the next success.
	LastError   string    `json:"lastError,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt,omitzero"`
}

// backups runs one app's backup schedule. mu makes backups of the app run one at a time
// (scheduled ones and those before a deploy).
type backups struct {
	mu sync.Mutex

	state  sync.Mutex // guards the fields below
	cron   *schedule.Cron
	key    string // the settings the running schedule was started with
	cancel context.CancelFunc
	done   chan struct{}
}

// scheduleKey is what a running schedule depends on: when a deploy does not change it, the
// schedule (and a backup in progress) keeps running.
func scheduleKey(m *release.Manifest) string {
	b, _ := json.Marshal([]any{m.Plan.Backup, m.Plan.Data, m.Plan.NotifyWebhook, m.SecretsFile, m.DataDir})
	return string(b)
}

// backupClient is the client of m's [backup] settings, reading the live data of the app and
// the DSNs and S3 keys of its secrets file.
func (a *Agent) backupClient(m *release.Manifest, onDone func(id string)) (*backup.Client, backup.Config, error) {
	opts := backup.PlanOptions{DataRoot: m.DataDir}
	if m.SecretsFile != "" {
		sec, err := release.ReadSecrets(m.SecretsFile)
		if err != nil {
			return nil, backup.Config{}, err
		}
		opts.Secrets = sec
	}
	cfg, err := backup.FromPlan(&m.Plan, opts)
	if err != nil {
		return nil, cfg, err
	}
	c, err := backup.New(cfg, backup.WithVersion(version.String()), backup.WithClock(a.Clock),
		backup.WithProgress(func(e backup.Event) {
			switch e.Kind {
			case "done":
				onDone(e.ID)
			case "warn", "abort", "skip":
				a.log().Warn("backup", "app", m.App, "backup", e.ID, "source", e.Source, "msg", e.Msg)
			}
		}))
	return c, cfg, err
}

// takeBackup backs up the app's data with m's settings, tagged with rel, then prunes when
// prune is set. Backups of one app run one at a time, and one at a time in the whole agent,
// so memory stays bounded by one backup's buffers ((concurrency+1) × part size).
func (rt *app) takeBackup(ctx context.Context, m *release.Manifest, rel string, prune bool) (string, error) {
	rt.backups.mu.Lock()
	defer rt.backups.mu.Unlock()
	select {
	case rt.a.backupSlot <- struct{}{}:
		defer func() { <-rt.a.backupSlot }()
	case <-ctx.Done():
		return "", ctx.Err()
	}
	id := ""
	c, cfg, err := rt.a.backupClient(m, func(done string) { id = done })
	if err == nil {
		_, err = c.Now(ctx, backup.NowOptions{Release: rel})
	}
	if err == nil && prune && cfg.Retention != (backup.Retention{}) {
		if _, perr := c.Prune(ctx, cfg.Retention, time.Local, false); perr != nil {
			err = fmt.Errorf("backup %s is complete, but pruning after it failed: %w", id, perr)
		}
	}
	if err == nil || ctx.Err() == nil { // a backup ended by stop or shutdown is no failure
		rt.recordBackup(id, err)
	}
	return id, err
}

// recordBackup keeps the outcome of a backup in the app's state.
func (rt *app) recordBackup(id string, err error) {
	now := rt.a.Clock.Now()
	rt.mu.Lock()
	if rt.st.Backup == nil {
		rt.st.Backup = &BackupStatus{}
	}
	b := rt.st.Backup
	if id != "" {
		b.LastID, b.LastAt = id, now
	}
	if err != nil {
		b.LastError, b.LastErrorAt = err.Error(), now
	} else {
		b.LastError, b.LastErrorAt = "", time.Time{}
	}
	rt.mu.Unlock()
	if serr := rt.save(); serr != nil {
		rt.log.Error("saving the backup status", "err", serr)
	}
}

// backupFailed posts a failed backup to the app's webhook.
func (rt *app) backupFailed(m *release.Manifest, what string, err error) {
	rt.log.Error("backup failed", "what", what, "err", err)
	if m.Plan.NotifyWebhook == "" {
		return
	}
	text := fmt.Sprintf(":x: %s of %s failed: %v", what, m.App, err)
	if werr := notify.Webhook(rt.a.ctx, m.Plan.NotifyWebhook, text, [][2]string{{"app", m.App}, {"release", m.ID}, {"phase", "BackupFailed"}}); werr != nil {
		rt.log.Error("notifying a failed backup", "err", werr)
	}
}

// startSchedule runs the backup schedule of m (the app's stable release) in place of the one
// running; an invalid schedule is recorded as the last error.
func (rt *app) startSchedule(m *release.Manifest) {
	key := scheduleKey(m)
	rt.backups.state.Lock()
	same := rt.backups.cancel != nil && rt.backups.key == key
	rt.backups.state.Unlock()
	if same {
		return
	}
	rt.stopSchedule()
	b := m.Plan.Backup
	if b == nil || b.Schedule == "" {
		return
	}
	cron, err := schedule.Parse(b.Schedule)
	if err != nil {
		rt.recordBackup("", fmt.Errorf("[backup] schedule %q of release %s: %w", b.Schedule, m.ID, err))
		return
	}
	ctx, cancel := context.WithCancel(rt.a.ctx)
	done := make(chan struct{})
	rt.backups.state.Lock()
	rt.backups.cron, rt.backups.key, rt.backups.cancel, rt.backups.done = cron, key, cancel, done
	rt.backups.state.Unlock()
	s := &schedule.Scheduler{Cron: cron, Clock: rt.a.Clock,
		Job: func(ctx context.Context, at time.Time) error {
			_, err := rt.takeBackup(ctx, m, "", true)
			if err != nil && ctx.Err() != nil {
				return nil // stopped: not a failure to report
			}
			return err
		},
		OnError: func(at time.Time, err error) {
			rt.backupFailed(m, "the scheduled backup of "+at.Format(time.RFC3339), err)
		}}
	go func() {
		defer close(done)
		if err := s.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			rt.log.Error("backup schedule stopped", "err", err)
		}
	}()
}

// stopSchedule ends the app's backup schedule (a backup in progress is aborted) and waits
// for it.
func (rt *app) stopSchedule() {
	rt.backups.state.Lock()
	cancel, done := rt.backups.cancel, rt.backups.done
	rt.backups.cron, rt.backups.key, rt.backups.cancel, rt.backups.done = nil, "", nil, nil
	rt.backups.state.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// backupStatus is the app's backup status with the running schedule's next time.
func (rt *app) backupStatus(st *AppState) *BackupStatus {
	rt.backups.state.Lock()
	cron := rt.backups.cron
	rt.backups.state.Unlock()
	if st.Backup == nil && cron == nil {
		return nil
	}
	out := BackupStatus{}
	if st.Backup != nil {
		out = *st.Backup
	}
	out.Schedule, out.Next = "", time.Time{}
	if cron != nil {
		out.Schedule, out.Next = cron.String(), cron.Next(rt.a.Clock.Now())
	}
	return &out
}

// backupBefore backs up the data of the stable release before a deploy replaces it, tagged
// with that release, when m asks for it ([deploy] backup_before).
func (rt *app) backupBefore(ctx context.Context, m *release.Manifest, stable string, progress func(Event)) error {
	if !m.Plan.Deploy.BackupBefore {
		return nil
	}
	if stable == "" || stable == m.ID {
		progress(Event{Message: "no release serves yet: nothing to back up before the deploy"})
		return nil
	}
	progress(Event{Message: fmt.Sprintf("backing up the data of %s before the deploy ([deploy] backup_before)", stable)})
	id, err := rt.takeBackup(ctx, m, stable, false)
	if err != nil {
		err = fmt.Errorf("the backup before the deploy failed, so nothing was changed (%s still serves): %w; fix the backup settings ([backup]) or set [deploy] backup_before = false", stable, err)
		rt.backupFailed(m, "the backup before deploying "+m.ID, err)
		return err
	}
	progress(Event{Message: fmt.Sprintf("backup %s holds the data of %s (`pyship rollback --with-data %s` restores it)", id, stable, stable)})
	return nil
}

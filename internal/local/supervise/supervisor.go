package supervise

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pyship/pyship/internal/rollout"
)

// Probe is how readiness and liveness are checked.
type Probe struct {
	Type           string // "http", "tcp" or "process"
	Path           string // for http
	Interval       time.Duration
	Timeout        time.Duration
	StartupTimeout time.Duration
}

// Spec describes one replica.
type Spec struct {
	ID, Release string
	// Dir is the working directory; Command the argv, where ${PORT} and ${VAR} are expanded
	// from Env just before exec.
	Dir     string
	Command []string
	Env     []string
	// Port is the private port the replica must listen on (given in $PORT).
	Port    int
	LogFile string
	Probe   Probe
	// Grace is how long a stopping replica gets between SIGTERM and SIGKILL (default 10s).
	Grace time.Duration
}

// Info is the observable state of a replica.
type Info struct {
	ID       string         `json:"id"`
	Release  string         `json:"release"`
	Port     int            `json:"port"`
	PID      int            `json:"pid"`
	Start    uint64         `json:"start"` // process start time, to tell pid reuse apart
	Health   rollout.Health `json:"health"`
	Restarts int            `json:"restarts"`
	// Backoff is how long the next restart would wait if the replica died now.
	Backoff   time.Duration `json:"backoff"`
	Diagnosis string        `json:"diagnosis,omitempty"`
}

// Supervisor runs and watches replicas. Processes run in their own process groups and outlive
// the supervisor, so a restarted agent can adopt them.
type Supervisor struct {
	// Home marks the replicas (see MarkerVar).
	Home string
	// OnReady is called when a replica starts passing its probe, OnUnready when it stops or
	// stops passing it.
	OnReady   func(Info)
	OnUnready func(Info)
	Log       *slog.Logger
	// Backoff paces the restarts of replicas that die or fail their liveness probe.
	Backoff Backoff
	// PickPort chooses another private port for a replica whose port was taken between its
	// choice and the app's bind (FreePort when nil); see repick.
	PickPort func() (int, error)

	mu   sync.Mutex
	reps map[string]*replica
}

type replica struct {
	spec   Spec
	mu     sync.Mutex
	info   Info
	pgid   int
	exited chan struct{} // closed when the current process is gone
	exit   string        // how it ended
	stop   chan struct{}
	done   chan struct{} // closed when the monitor has returned
	probe  probeResult
	// launched is when the current process started (zero for an adopted one), logStart the
	// size of the log file then: what the current process wrote follows it.
	launched time.Time
	logStart int64
	// repicks counts the ports chosen again because the app found its port taken.
	repicks int
}

func (s *Supervisor) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Backoff is how a replica that dies or fails its liveness probe is restarted: after Min,
// doubling up to Max with each restart in a row, and back to Min once the replica has been
// ready for Reset without interruption. Zero fields take the defaults: 500ms, 30s and 2×Max.
type Backoff struct{ Min, Max, Reset time.Duration }

func (b Backoff) withDefaults() Backoff {
	if b.Min <= 0 {
		b.Min = 500 * time.Millisecond
	}
	if b.Max < b.Min {
		b.Max = max(30*time.Second, b.Min)
	}
	if b.Reset <= 0 {
		b.Reset = 2 * b.Max
	}
	return b
}

// Next is the delay of the restart after one that waited cur.
func (b Backoff) Next(cur time.Duration) time.Duration { return min(max(2*cur, b.Min), b.Max) }

// Settle is the delay of the next restart of a replica that has been ready for up since a
// restart that waited cur: cur, or Min again once up reaches Reset.
func (b Backoff) Settle(cur, up time.Duration) time.Duration {
	if up >= b.Reset {
		return b.Min
	}
	return cur
}

// Start launches a replica and watches it until Stop. adopt, when not zero, is an already
// running process of this replica (pid, start time) to take back instead of launching one.
func (s *Supervisor) Start(ctx context.Context, spec Spec, adoptPID int, adoptStart uint64) error {
	s.mu.Lock()
	if s.reps == nil {
		s.reps = map[string]*replica{}
	}
	if _, ok := s.reps[spec.ID]; ok {
		s.mu.Unlock()
		return fmt.Errorf("replica %s is already running", spec.ID)
	}
	r := &replica{spec: spec, stop: make(chan struct{}), done: make(chan struct{})}
	r.info = Info{ID: spec.ID, Release: spec.Release, Port: spec.Port, Health: rollout.Starting}
	s.reps[spec.ID] = r
	s.mu.Unlock()
	if adoptPID > 0 && Alive(adoptPID, adoptStart) {
		r.adopt(adoptPID, adoptStart)
	} else if err := s.launch(r); err != nil {
		r.fail(err.Error())
	}
	go s.monitor(ctx, r)
	return nil
}

// launch starts the replica's process.
func (s *Supervisor) launch(r *replica) error {
	sp := r.spec
	env := append(append([]string(nil), sp.Env...), MarkerVar+"="+s.Home+"|"+sp.ID)
	if sp.Port > 0 { // a worker has no port, and gets no $PORT
		env = append(env, "PORT="+strconv.Itoa(sp.Port))
	}
	lookup := envMap(env)
	argv := make([]string, len(sp.Command))
	for i, a := range sp.Command {
		argv[i] = os.Expand(a, func(k string) string { return lookup[k] })
	}
	if len(argv) == 0 {
		return fmt.Errorf("replica %s has no start command: set [run] command", sp.ID)
	}
	logf, err := os.OpenFile(sp.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("opening the log file of replica %s: %w", sp.ID, err)
	}
	defer logf.Close()
	var logStart int64
	if fi, err := logf.Stat(); err == nil {
		logStart = fi.Size()
	}
	path := argv[0]
	if !strings.Contains(path, "/") {
		if p, err := lookPath(path, lookup["PATH"]); err == nil {
			path = p
		} else {
			return fmt.Errorf("start command %q: %s is not on the PATH of the release (%s); is it in the app's dependencies?", strings.Join(sp.Command, " "), argv[0], lookup["PATH"])
		}
	}
	cmd := &exec.Cmd{Path: path, Args: argv, Dir: sp.Dir, Env: env, Stdout: logf, Stderr: logf,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true}}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting replica %s (%s): %w", sp.ID, strings.Join(argv, " "), err)
	}
	start, _ := procStart(cmd.Process.Pid)
	exited := make(chan struct{})
	r.mu.Lock()
	r.info.PID, r.info.Start, r.pgid, r.exited, r.exit = cmd.Process.Pid, start, cmd.Process.Pid, exited, ""
	r.launched, r.logStart = time.Now(), logStart
	r.mu.Unlock()
	go func() {
		err := cmd.Wait()
		how := "exited with status 0"
		if ee, ok := err.(*exec.ExitError); ok {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				how = "killed by signal " + ws.Signal().String()
			} else {
				how = fmt.Sprintf("exited with status %d", ee.ExitCode())
			}
		}
		r.mu.Lock()
		r.exit = how
		r.mu.Unlock()
		close(exited)
	}()
	return nil
}

// adopt watches a process started by an earlier agent: it is not our child, so its end is
// noticed by polling.
func (r *replica) adopt(pid int, start uint64) {
	exited := make(chan struct{})
	r.mu.Lock()
	r.info.PID, r.info.Start, r.pgid, r.exited = pid, start, pid, exited
	r.mu.Unlock()
	go func() {
		for Alive(pid, start) {
			time.Sleep(100 * time.Millisecond)
		}
		r.mu.Lock()
		r.exit = "exited (adopted process; status unknown)"
		r.mu.Unlock()
		close(exited)
	}()
}

func (r *replica) fail(diag string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.info.Health, r.info.Diagnosis = rollout.Failed, diag
}

func (r *replica) snapshot() Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.info
}

// List returns every replica, sorted by id.
func (s *Supervisor) List() []Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Info, 0, len(s.reps))
	for _, r := range s.reps {
		out = append(out, r.snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Stop stops watching the replica, sends its process group SIGTERM and, after its grace
// period, SIGKILL. Stopping an unknown replica is not an error.
func (s *Supervisor) Stop(ctx context.Context, id string) error {
	s.mu.Lock()
	r, ok := s.reps[id]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.done
	r.mu.Lock()
	pgid, exited := r.pgid, r.exited
	r.mu.Unlock()
	if pgid > 0 {
		grace := r.spec.Grace
		if grace <= 0 {
			grace = 10 * time.Second
		}
		killGroup(pgid, syscall.SIGTERM)
		t := time.NewTimer(grace)
		select {
		case <-exited:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		killGroup(pgid, syscall.SIGKILL)
		<-exited
		for i := 0; i < 100 && groupAlive(pgid); i++ {
			killGroup(pgid, syscall.SIGKILL)
			time.Sleep(10 * time.Millisecond)
		}
	}
	s.mu.Lock()
	delete(s.reps, id)
	s.mu.Unlock()
	return nil
}

// Release forgets every replica without stopping its process (the agent is shutting down and
// the next one adopts them).
func (s *Supervisor) Release() {
	s.mu.Lock()
	reps := s.reps
	s.reps = nil
	s.mu.Unlock()
	for _, r := range reps {
		select {
		case <-r.stop:
		default:
			close(r.stop)
		}
		<-r.done
	}
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

func lookPath(file, path string) (string, error) {
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			continue
		}
		p := dir + "/" + file
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// addr is where the replica serves.
func (sp Spec) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(sp.Port)) }

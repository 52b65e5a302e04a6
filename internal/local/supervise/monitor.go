package supervise

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/pyship/pyship/internal/rollout"
)

type probeResult struct {
	ok   bool
	desc string
}

// probe checks the replica once.
func probe(ctx context.Context, sp Spec, alive bool) probeResult {
	timeout := sp.Probe.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch sp.Probe.Type {
	case "process":
		return probeResult{ok: alive, desc: "process running"}
	case "tcp":
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", sp.addr())
		if err != nil {
			return probeResult{desc: fmt.Sprintf("TCP connect to port %d: %v", sp.Port, err)}
		}
		c.Close()
		return probeResult{ok: true, desc: fmt.Sprintf("TCP port %d accepts connections", sp.Port)}
	}
	path := sp.Probe.Path
	if path == "" {
		path = "/"
	}
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+sp.addr()+path, nil)
	if err != nil {
		return probeResult{desc: err.Error()}
	}
	req.Header.Set("User-Agent", "pyship-probe")
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		return probeResult{desc: fmt.Sprintf("GET %s on port %d: %v", path, sp.Port, unwrapURL(err))}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	res := probeResult{ok: resp.StatusCode >= 200 && resp.StatusCode < 400}
	res.desc = fmt.Sprintf("GET %s on port %d answered %s: %q", path, sp.Port, resp.Status, strings.TrimSpace(string(body)))
	return res
}

func unwrapURL(err error) error {
	if ue, ok := err.(interface{ Unwrap() error }); ok && strings.HasPrefix(err.Error(), "Get ") {
		return ue.Unwrap()
	}
	return err
}

// monitor gates the replica on readiness within the startup timeout, then probes liveness,
// restarting the process with exponential backoff when it dies or stops answering.
func (s *Supervisor) monitor(ctx context.Context, r *replica) {
	defer close(r.done)
	sp := r.spec
	interval := sp.Probe.Interval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	startup := sp.Probe.StartupTimeout
	if startup <= 0 {
		startup = 60 * time.Second
	}
	bo := s.Backoff.withDefaults()
	r.setBackoff(bo.Min)
	everReady := false
	for {
		if r.snapshot().Health == rollout.Failed {
			s.waitStop(ctx, r)
			return
		}
		r.mu.Lock()
		exited := r.exited
		r.mu.Unlock()
		switch s.startup(ctx, r, exited, interval, startup, everReady) {
		case outStop:
			return
		case outFailed, outRepicked:
			continue
		case outReady:
			r.mu.Lock()
			r.info.Health, r.info.Diagnosis = rollout.Ready, ""
			info := r.info
			r.mu.Unlock()
			everReady = true
			s.log().Info("replica ready", "replica", sp.ID, "release", sp.Release, "port", info.Port)
			if s.OnReady != nil {
				s.OnReady(info)
			}
			if s.live(ctx, r, exited, interval, bo) {
				return
			}
		}
		r.mu.Lock()
		r.info.Health = rollout.Starting
		r.info.Restarts++
		info := r.info
		backoff := r.info.Backoff
		r.mu.Unlock()
		if s.OnUnready != nil {
			s.OnUnready(info)
		}
		s.kill(r, exited)
		s.log().Warn("restarting replica", "replica", sp.ID, "restarts", info.Restarts, "backoff", backoff)
		select {
		case <-r.stop:
			return
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		r.setBackoff(bo.Next(backoff))
		if err := s.launch(r); err != nil {
			r.fail(err.Error())
		}
	}
}

type outcome int

const (
	outReady outcome = iota
	outRestart
	outFailed
	outStop
	outRepicked // the port was taken: the replica was launched again on another
)

// startup polls readiness quickly until it passes or the startup timeout ends. A replica
// that never was ready fails (the deploy gate); one that was ready before is restarted.
func (s *Supervisor) startup(ctx context.Context, r *replica, exited chan struct{}, interval, startup time.Duration, everReady bool) outcome {
	deadline := time.Now().Add(startup)
	for {
		select {
		case <-r.stop:
			return outStop
		case <-ctx.Done():
			return outStop
		case <-exited:
			if everReady {
				return outRestart
			}
			if s.repick(r) {
				return outRepicked
			}
			s.failReplica(r, "it exited before becoming ready")
			return outFailed
		case <-time.After(min(interval, 100*time.Millisecond)):
		}
		res := probe(ctx, r.spec, true)
		r.mu.Lock()
		r.probe = res
		launched := r.launched
		r.mu.Unlock()
		// A process without a port is ready once it has stayed up a while, so that one
		// crashing at start fails the release instead of restarting forever.
		if res.ok && r.spec.Probe.Type == "process" && time.Since(launched) < min(2*time.Second, startup/2) {
			res.ok = false
		}
		if res.ok {
			return outReady
		}
		if time.Now().After(deadline) {
			if everReady {
				return outRestart
			}
			s.failReplica(r, fmt.Sprintf("not ready within the startup timeout of %s", startup))
			return outFailed
		}
	}
}

// maxRepicks bounds how many times a replica's port is chosen again.
const maxRepicks = 3

// repick launches again, on another port, a replica that exited before becoming ready because
// its port was taken: the port is chosen free, then closed for the app to bind, and another
// program may bind it in between. It reports whether it did: not for a replica without a port,
// after maxRepicks, or when the exit was not about the port (the app did not say "address
// already in use" and nothing else holds the port).
func (s *Supervisor) repick(r *replica) bool {
	r.mu.Lock()
	port, n, logStart := r.spec.Port, r.repicks, r.logStart
	r.mu.Unlock()
	if port == 0 || n >= maxRepicks || !(saysPortTaken(r.spec.LogFile, logStart) || portHeld(port)) {
		return false
	}
	pick := s.PickPort
	if pick == nil {
		pick = FreePort
	}
	next, err := pick()
	if err != nil {
		return false
	}
	r.mu.Lock()
	r.spec.Port, r.info.Port = next, next
	r.repicks++
	r.mu.Unlock()
	s.log().Warn("replica's port was taken: starting it on another", "replica", r.spec.ID, "port", port, "new_port", next)
	if err := s.launch(r); err != nil {
		r.fail(err.Error())
	}
	return true
}

// portTakenWords are how servers say that the port they were to bind is taken: Python's
// OSError (Errno 98 on Linux, 48 on macOS) as uvicorn, hypercorn, http.server and Werkzeug
// print it, Go's and Node's, and gunicorn's "Connection in use".
var portTakenWords = []string{"address already in use", "eaddrinuse", "[errno 98]", "[errno 48]", "connection in use"}

// saysPortTaken reports whether the log file, from offset from on (the current process's
// lines), says that the port was taken.
func saysPortTaken(file string, from int64) bool {
	text := strings.ToLower(logFrom(file, from))
	for _, w := range portTakenWords {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}

// logFrom is the log file from offset from on, at most its last 16 KiB ("" when unreadable).
func logFrom(file string, from int64) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	from = max(from, st.Size()-16384, 0)
	buf := make([]byte, max(st.Size()-from, 0))
	if _, err := f.ReadAt(buf, from); err != nil && err != io.EOF {
		return ""
	}
	return string(buf)
}

// portHeld reports whether another program listens on port of 127.0.0.1 (or of every address).
func portHeld(port int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", fmt.Sprint(port)))
	if err != nil {
		return errors.Is(err, syscall.EADDRINUSE)
	}
	ln.Close()
	return false
}

// FreePort returns a TCP port of 127.0.0.1 that is free now. It is closed again for the app to
// bind, so it may be taken meanwhile: the supervisor then chooses another (repick).
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free private port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (r *replica) setBackoff(d time.Duration) {
	r.mu.Lock()
	r.info.Backoff = d
	r.mu.Unlock()
}

// live probes a ready replica every interval; it returns true when the monitor must end
// (stop or shutdown) and false when the replica must be restarted. A replica that stays
// healthy for bo.Reset gets its restart backoff back to bo.Min.
func (s *Supervisor) live(ctx context.Context, r *replica, exited chan struct{}, interval time.Duration, bo Backoff) bool {
	fails := 0
	since := time.Now()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return true
		case <-ctx.Done():
			return true
		case <-exited:
			r.mu.Lock()
			s.log().Warn("replica died", "replica", r.spec.ID, "how", r.exit)
			r.mu.Unlock()
			return false
		case <-t.C:
		}
		res := probe(ctx, r.spec, true)
		r.mu.Lock()
		r.probe = res
		r.mu.Unlock()
		if res.ok {
			fails = 0
			r.mu.Lock()
			r.info.Backoff = bo.Settle(r.info.Backoff, time.Since(since))
			r.mu.Unlock()
			continue
		}
		if fails++; fails >= 3 {
			s.log().Warn("replica failed its liveness probe", "replica", r.spec.ID, "probe", res.desc)
			return false
		}
	}
}

// kill ends the replica's process group and waits until the process is gone.
func (s *Supervisor) kill(r *replica, exited chan struct{}) {
	r.mu.Lock()
	pgid := r.pgid
	r.mu.Unlock()
	killGroup(pgid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
	}
	killGroup(pgid, syscall.SIGKILL)
	<-exited
}

// failReplica marks the replica failed with a diagnosis and ends its process.
func (s *Supervisor) failReplica(r *replica, why string) {
	diag := s.diagnose(r, why)
	r.mu.Lock()
	exited := r.exited
	r.mu.Unlock()
	s.kill(r, exited)
	r.fail(diag)
	s.log().Warn("replica failed", "replica", r.spec.ID, "release", r.spec.Release, "why", why)
}

func (s *Supervisor) waitStop(ctx context.Context, r *replica) {
	select {
	case <-r.stop:
	case <-ctx.Done():
	}
}

// diagnose explains why a replica failed: how its process ended, what the probe saw, which
// port it really listens on, and its last log lines.
func (s *Supervisor) diagnose(r *replica, why string) string {
	r.mu.Lock()
	pgid, exit, pr, exited, logStart := r.pgid, r.exit, r.probe, r.exited, r.logStart
	r.mu.Unlock()
	sp := r.spec
	var b strings.Builder
	fmt.Fprintf(&b, "%s", why)
	select {
	case <-exited:
		if exit != "" {
			fmt.Fprintf(&b, "; the process %s", exit)
		}
	default:
		if sp.Probe.Type != "process" {
			ports := listeningPorts(pgid)
			switch {
			case len(ports) == 0:
				fmt.Fprintf(&b, "; the process listens on no TCP port (expected %d from $PORT)", sp.Port)
			case !contains(ports, sp.Port):
				fmt.Fprintf(&b, "; the process listens on port %s but is expected on %d: make it bind $PORT", joinInts(ports), sp.Port)
			}
		}
	}
	if pr.desc != "" {
		fmt.Fprintf(&b, "; last probe: %s", pr.desc)
	}
	// Only the failed process's own lines: the log file keeps those of earlier processes of
	// the same replica ID (an earlier failed deploy of the release).
	if lines := tail(sp.LogFile, logStart, 12); lines != "" {
		fmt.Fprintf(&b, "\nlast log lines of %s:\n%s", sp.LogFile, lines)
	}
	return b.String()
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// tail returns the last n lines of file written from the offset from on.
func tail(file string, from int64, n int) string {
	text := logFrom(file, from)
	if text == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

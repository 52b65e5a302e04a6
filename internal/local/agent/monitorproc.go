package agent

// The processes of the monitoring stack: each supervised by a goroutine of the agent.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pyship/pyship/internal/local/release"
)

func checkFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return ln.Close()
}

// child is one supervised process of the stack: restarted with a growing delay when it exits.
type child struct {
	name, addr, log string
	cmd             []string
	// pidFile records the running process, so that the next agent ends it when this one was
	// killed without stopping it.
	pidFile string

	mu   sync.Mutex
	proc *os.Process
	quit chan struct{}
	done chan struct{}
}

func (c *child) start(a *Agent) {
	c.quit, c.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(c.done)
		const first, most = time.Second, 30 * time.Second
		b := first
		for {
			began := time.Now()
			err := c.run()
			select {
			case <-c.quit:
				return
			default:
			}
			a.log().Warn("monitoring process exited; restarting", "process", c.name, "err", err, "log", c.log, "in", b)
			if time.Since(began) > time.Minute {
				b = first
			}
			select {
			case <-c.quit:
				return
			case <-time.After(b):
			}
			b = min(2*b, most)
		}
	}()
}

func (c *child) run() error {
	logf, err := os.OpenFile(c.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(c.cmd[0], c.cmd[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	c.mu.Lock()
	c.proc = cmd.Process
	c.mu.Unlock()
	if err := release.WriteAtomic(c.pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n")); err != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return err
	}
	err = cmd.Wait()
	_ = os.Remove(c.pidFile)
	return err
}

// endStale ends the process a previous agent started from the configuration in dir and left
// running (that agent was killed): it would hold the address. A pid whose command line names
// another configuration is someone else's and stays.
func (c *child) endStale(dir string) {
	b, err := os.ReadFile(c.pidFile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte("--config.file="+filepath.Join(dir, c.name+".yml"))) {
		return
	}
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = os.Remove(c.pidFile)
}

// stop ends the process (TERM, then KILL after 10 s) and its supervision.
func (c *child) stop() {
	close(c.quit)
	c.mu.Lock()
	p := c.proc
	c.mu.Unlock()
	if p != nil {
		_ = syscall.Kill(-p.Pid, syscall.SIGTERM)
	}
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		if p != nil {
			_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
		}
		<-c.done
	}
}

func (c *child) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	url := "http://" + c.addr + "/-/ready"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			tail, _ := os.ReadFile(c.log)
			if len(tail) > 2000 {
				tail = tail[len(tail)-2000:]
			}
			return fmt.Errorf("%s did not become ready on %s within 60 s; its log %s ends with:\n%s", c.name, c.addr, c.log, tail)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

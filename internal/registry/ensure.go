package registry

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Answers reports whether a registry answers GET /v2/ at addr (any status: it speaks HTTP).
func Answers(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/v2/", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// Ensure makes sure pyship's own registry answers at addr, as `pyship deploy` does for the
// agent: when nothing answers, it starts `exe registry serve --addr addr --dir dir` in the
// background (its own session, so it outlives the command; its log is dir/serve.log) and waits
// for it to answer. started says whether it started one.
func Ensure(ctx context.Context, exe, addr, dir string) (started bool, err error) {
	if Answers(ctx, addr) {
		return false, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("creating the registry folder: %w", err)
	}
	logPath := filepath.Join(dir, "serve.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return false, err
	}
	defer logf.Close()
	cmd := exec.Command(exe, "registry", "serve", "--addr", addr, "--dir", dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return false, fmt.Errorf("starting pyship's registry: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return false, fmt.Errorf("pyship's registry exited at start (%v); see %s, or run pyship registry serve yourself", err, logPath)
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if Answers(ctx, addr) {
			return true, nil
		}
	}
	return false, fmt.Errorf("pyship's registry did not answer on %s within 15s; see %s", addr, logPath)
}

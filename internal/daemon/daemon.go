package daemon

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Start runs exe with args in a session of its own (so it outlives the command that starts
// it), appending its output to logPath, and polls ready until it reports true, the process
// exits, ctx ends or 15 s pass. what names the process in errors ("the pyship agent"). env is
// its environment (nil: this process's): the command's, which the CLI carries.
func Start(ctx context.Context, what, exe string, args, env []string, logPath string, ready func(context.Context) bool) error {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr, cmd.Env = logf, logf, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", what, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("%s exited at start (%v); see %s", what, err, logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if ready(ctx) {
			return nil
		}
	}
	return fmt.Errorf("%s did not answer within 15s; see %s", what, logPath)
}

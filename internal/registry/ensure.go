package registry

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/pyship/pyship/internal/daemon"
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
// for it to answer, with env as its environment (nil: this process's). started says whether
// it started one.
func Ensure(ctx context.Context, exe, addr, dir string, env []string) (started bool, err error) {
	if Answers(ctx, addr) {
		return false, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("creating the registry folder: %w", err)
	}
	logPath := filepath.Join(dir, "serve.log")
	err = daemon.Start(ctx, "pyship's registry", exe, []string{"registry", "serve", "--addr", addr, "--dir", dir}, env, logPath,
		func(ctx context.Context) bool { return Answers(ctx, addr) })
	if err != nil {
		return false, fmt.Errorf("%w; or run pyship registry serve yourself", err)
	}
	return true, nil
}

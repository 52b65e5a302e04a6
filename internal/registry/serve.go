package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem" // the storage driver the registry uses
)

// DefaultAddr is where `pyship registry serve` listens and where `pyship build --push` pushes
// when no registry is configured.
const DefaultAddr = "127.0.0.1:5050"

// Options configure a local registry.
type Options struct {
	// Addr is the host:port to listen on (DefaultAddr when empty).
	Addr string
	// Dir holds the registry's content; it survives restarts (DefaultDir(nil) when empty).
	Dir string
}

// DefaultDir is the registry's storage folder: $PYSHIP_DATA/registry, or
// $HOME/.local/share/pyship/registry, the variables read by getenv (os.Getenv when nil).
func DefaultDir(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if d := getenv("PYSHIP_DATA"); d != "" {
		return filepath.Join(d, "registry"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", fmt.Errorf("finding the registry folder: neither PYSHIP_DATA nor HOME is set (set PYSHIP_DATA)")
	}
	return filepath.Join(home, ".local", "share", "pyship", "registry"), nil
}

// Handler returns the registry's HTTP handler storing content under dir. The registry logs
// through logrus's standard logger, which the caller configures.
func Handler(ctx context.Context, dir string) (http.Handler, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the registry folder: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	cfg, err := configuration.Parse(strings.NewReader(fmt.Sprintf(`version: 0.1
log:
  accesslog:
    disabled: true
  level: warn
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:0
`, abs)))
	if err != nil {
		return nil, fmt.Errorf("configuring the registry: %w", err)
	}
	return handlers.NewApp(ctx, cfg), nil
}

// Serve runs the registry until ctx is done. ready, when not nil, is called with the bound
// address once the registry accepts connections.
func Serve(ctx context.Context, opts Options, ready func(addr string)) error {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.Dir == "" {
		d, err := DefaultDir(nil)
		if err != nil {
			return err
		}
		opts.Dir = d
	}
	h, err := Handler(ctx, opts.Dir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (pick another address with --addr)", opts.Addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving the registry on %s: %w", opts.Addr, err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("stopping the registry: %w", err)
		}
		return nil
	}
}

package cli

import (
	"context"
	"errors"
	"os"
	"sync"
)

// errInterrupted is why a command's context ends on Ctrl-C: what was being done says it was
// interrupted (context.Cause), not what a killed subprocess's exit would suggest.
var errInterrupted = errors.New("interrupted (Ctrl-C)")

// ExitInterrupted is the exit code of a command ended or cut short by Ctrl-C (SIGINT or
// SIGTERM), as shells report 128+SIGINT.
const ExitInterrupted = 130

// interrupts turns Ctrl-C into what the running verb says it means. A verb with a way back
// registers it (deploy and rollback: abort, so the live release keeps or gets all traffic):
// the first Ctrl-C runs it while the command goes on showing the rollback. A second Ctrl-C,
// or the first in a verb without one, ends the command: its context is cancelled.
type interrupts struct {
	mu      sync.Mutex
	n       int
	onFirst func()
	cancel  context.CancelFunc
}

func (i *interrupts) fire() {
	i.mu.Lock()
	i.n++
	first, f := i.n == 1, i.onFirst
	i.mu.Unlock()
	if first && f != nil {
		go f()
		return
	}
	i.cancel()
}

// On registers f for the first interrupt until the returned func is called; nil-safe (a
// Main without signals has no interrupts).
func (i *interrupts) On(f func()) (clear func()) {
	if i == nil {
		return func() {}
	}
	i.mu.Lock()
	i.onFirst = f
	i.mu.Unlock()
	return func() {
		i.mu.Lock()
		i.onFirst = nil
		i.mu.Unlock()
	}
}

// count is how many interrupts came; 0 for nil.
func (i *interrupts) count() int {
	if i == nil {
		return 0
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.n
}

// MainSignals runs pyship with args as Main does, with each value received on sig taken as
// a Ctrl-C (see interrupts). A command that was interrupted exits 130.
func MainSignals(sig <-chan os.Signal, args, env []string, in *os.File, out, errw *os.File) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	intr := &interrupts{cancel: func() { cancel(errInterrupted) }}
	go func() {
		for range sig {
			intr.fire()
		}
	}()
	s := &streams{In: in, Out: out, Err: errw, intr: intr, env: env}
	code := runStreams(ctx, args, s)
	if intr.count() > 0 && !s.signalStops {
		return ExitInterrupted
	}
	return code
}

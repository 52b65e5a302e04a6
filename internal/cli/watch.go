package cli

import (
	"io"
	"strings"
	"sync"
	"time"

	"github.com/pyship/pyship/internal/platform"
	"github.com/pyship/pyship/internal/progress"
)

// eventPrinter prints a deploy's events, each message once (the engine says a replica's
// diagnosis when it decides to roll back and again as it finishes, and the final report would
// say it a third time), and, while no event comes, how long the current step has been waiting:
// a live line on a terminal, a line now and then in a log.
type eventPrinter struct {
	mu    sync.Mutex
	d     *progress.Display
	seen  map[string]bool
	last  string
	since time.Time
	stop  chan struct{}
	done  sync.WaitGroup
}

// waitShownAfter is how long a step goes without news before its wait is shown.
const waitShownAfter = 3 * time.Second

func newEventPrinter(w io.Writer) *eventPrinter {
	p := &eventPrinter{d: progress.New(w), seen: map[string]bool{}, since: time.Now(), stop: make(chan struct{})}
	p.done.Add(1)
	go p.tick()
	return p
}

func (p *eventPrinter) print(e platform.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case e.Warning != "" && !p.seen[e.Warning]:
		p.seen[e.Warning] = true
		p.d.Line("warning: %s", e.Warning)
	case e.Warning == "" && e.Message != "" && !p.seen[e.Message]:
		p.seen[e.Message] = true
		p.d.Line("%s", e.Message)
		p.last, p.since = firstLine(e.Message), time.Now()
	}
}

func (p *eventPrinter) tick() {
	defer p.done.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			if waited := time.Since(p.since); p.last != "" && waited >= waitShownAfter {
				p.d.Status("wait", "  still %s (%s)", strings.TrimSuffix(p.last, "..."), waited.Round(time.Second))
			}
			p.mu.Unlock()
		}
	}
}

// close ends the waiting line; call it before printing anything else.
func (p *eventPrinter) close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.done.Wait()
	p.d.Done()
}

// said reports whether msg was printed already.
func (p *eventPrinter) said(msg string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[msg]
}

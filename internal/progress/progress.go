package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pyship/pyship/internal/clock"
	"golang.org/x/term"
)

// liveEvery is how often a live status line is redrawn at most.
const liveEvery = 100 * time.Millisecond

// Display writes progress to one stream. Line prints a line; Status shows the state of one
// piece of work (a key such as "push" or a Deployment's name) that changes often. On a
// terminal the status line is rewritten in place and kept, as it last was, when a line or
// another status follows. Elsewhere a status is printed when its key is new and then at most
// once an interval, and its last state is printed before anything else, so a CI log shows
// where each piece of work started and ended without a line per update. Safe for concurrent
// use.
type Display struct {
	w     io.Writer
	tty   bool
	width func() int
	clock clock.Clock
	every time.Duration // plain mode: at most one status line per key this often

	mu      sync.Mutex
	key     string // the open status, "" for none
	status  string // its latest text
	shown   string // its text as last written
	shownAt time.Time
}

// New returns a display on w: live when w is a terminal (and TERM is not "dumb" and $CI is
// unset), plain lines otherwise.
func New(w io.Writer) *Display {
	d := Plain(w, 10*time.Second)
	if f, ok := w.(*os.File); ok && IsTerminal(w) && os.Getenv("TERM") != "dumb" && os.Getenv("CI") == "" {
		d.tty = true
		d.width = func() int {
			if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
				return w
			}
			return 80
		}
	}
	return d
}

// Plain returns a display that writes plain lines to w whatever w is, with a status line per
// key at most every interval.
func Plain(w io.Writer, every time.Duration) *Display {
	return &Display{w: w, clock: clock.Real{}, every: every, width: func() int { return 80 }}
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Live reports whether the display rewrites status lines in place.
func (d *Display) Live() bool { return d.tty }

// Line prints a line.
func (d *Display) Line(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.end()
	fmt.Fprintln(d.w, fmt.Sprintf(format, args...))
}

// Status sets the state of the work named key.
func (d *Display) Status(key, format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	if key != d.key {
		d.end()
		d.key = key
	}
	d.status = msg
	now := d.clock.Now()
	switch {
	case d.tty && (d.shown == "" || now.Sub(d.shownAt) >= liveEvery):
		// At most ten redraws a second: a terminal shows no more, and an upload reports
		// every 32 KiB.
		fmt.Fprintf(d.w, "\r\x1b[K%s", d.fit(msg))
		d.shown, d.shownAt = msg, now
	case !d.tty && (d.shown == "" || now.Sub(d.shownAt) >= d.every):
		fmt.Fprintln(d.w, msg)
		d.shown, d.shownAt = msg, now
	}
}

// Done ends the open status line, as it last was.
func (d *Display) Done() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.end()
}

// end writes the open status's latest state if it was not written yet, and closes it; d.mu
// is held.
func (d *Display) end() {
	if d.key == "" {
		return
	}
	switch {
	case d.tty && d.shown != d.status:
		fmt.Fprintf(d.w, "\r\x1b[K%s\n", d.fit(d.status))
	case d.tty:
		fmt.Fprintln(d.w)
	case d.shown != d.status:
		fmt.Fprintln(d.w, d.status)
	}
	d.key, d.status, d.shown = "", "", ""
}

// fit cuts msg to the terminal's width so the status never wraps (a wrapped line cannot be
// rewritten in place).
func (d *Display) fit(msg string) string {
	msg = strings.ReplaceAll(msg, "\n", " ")
	w := d.width() - 1
	if r := []rune(msg); w > 1 && len(r) > w {
		return string(r[:w-1]) + "…"
	}
	return msg
}

// Bytes formats a byte count for people: "512 B", "3.4 KiB", "12.0 MiB", "1.25 GiB".
func Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

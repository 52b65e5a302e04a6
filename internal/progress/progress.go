package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// liveEvery is how often a live status line is redrawn at most.
const liveEvery = 100 * time.Millisecond

// Display writes progress to one stream. Line prints a line that stays; Status replaces the
// live status line. Safe for concurrent use.
type Display struct {
	w     io.Writer
	tty   bool
	width func() int
	now   func() time.Time
	every time.Duration // plain mode: at most one status line this often

	mu        sync.Mutex
	status    string // shown on a terminal
	lastPlain time.Time
	lastKey   string
}

// New returns a display on w: live when w is a terminal (and TERM is not "dumb" and $CI is
// unset), plain lines otherwise.
func New(w io.Writer) *Display {
	d := &Display{w: w, now: time.Now, every: 10 * time.Second, width: func() int { return 80 }}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb" && os.Getenv("CI") == "" {
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

// Plain returns a display that writes plain lines to w whatever w is, with a status line at
// most every interval (tests use it to see what CI sees).
func Plain(w io.Writer, every time.Duration) *Display {
	return &Display{w: w, now: time.Now, every: every, width: func() int { return 80 }}
}

// Live reports whether the display redraws a status line in place.
func (d *Display) Live() bool { return d.tty }

// Line prints a line that stays above the status line.
func (d *Display) Line(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	if d.tty && d.status != "" {
		fmt.Fprintf(d.w, "\r\x1b[K%s\n%s", msg, d.fit(d.status))
		return
	}
	fmt.Fprintln(d.w, msg)
}

// Status replaces the live status line. key names what the status is about (e.g. "push"):
// in plain mode a status with a new key is printed at once, the same key at most every
// interval, so CI logs show the work is moving without a line per update.
func (d *Display) Status(key, format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	now := d.now()
	if d.tty {
		// Redraw at most ten times a second: a terminal cannot show more, and an upload
		// reports every 32 KiB.
		d.status = msg
		if key != d.lastKey || now.Sub(d.lastPlain) >= liveEvery {
			d.lastKey, d.lastPlain = key, now
			fmt.Fprintf(d.w, "\r\x1b[K%s", d.fit(msg))
		}
		return
	}
	if key != d.lastKey || now.Sub(d.lastPlain) >= d.every {
		d.lastKey, d.lastPlain = key, now
		fmt.Fprintln(d.w, msg)
	}
}

// Clear removes the status line (call it when the work is done).
func (d *Display) Clear() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tty && d.status != "" {
		fmt.Fprint(d.w, "\r\x1b[K")
	}
	d.status, d.lastKey = "", ""
}

// fit cuts msg to the terminal's width so the status never wraps (a wrapped line cannot be
// redrawn in place).
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

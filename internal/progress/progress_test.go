package progress

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// stoppedClock is a clock the test moves by setting its time.
type stoppedClock struct{ now time.Time }

func (c *stoppedClock) Now() time.Time { return c.now }

func (c *stoppedClock) Sleep(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return ctx.Err()
}

// movedDisplay returns a display on b with a clock the test moves.
func movedDisplay(b *bytes.Buffer, tty bool) (*Display, *time.Time) {
	d := Plain(b, 10*time.Second)
	d.tty = tty
	d.width = func() int { return 40 }
	c := &stoppedClock{now: time.Unix(1000, 0)}
	d.clock = c
	return d, &c.now
}

func TestPlainShowsStartIntervalAndEndOfEachStatus(t *testing.T) {
	var b bytes.Buffer
	d, now := movedDisplay(&b, false)
	d.Line("applied Deployment/web")
	d.Status("web", "web: 1/2 updated")
	d.Status("web", "web: 1/2 updated, 1 ready") // too soon: held back
	*now = now.Add(11 * time.Second)
	d.Status("web", "web: 2/2 updated") // the interval passed
	d.Status("web", "web: 2/2 updated, 2 ready")
	d.Status("push", "push 1 MiB") // another key: the last state of web first
	d.Done()
	d.Line("live")
	want := "applied Deployment/web\nweb: 1/2 updated\nweb: 2/2 updated\nweb: 2/2 updated, 2 ready\npush 1 MiB\nlive\n"
	if b.String() != want {
		t.Errorf("plain output:\n%q\nwant\n%q", b.String(), want)
	}
}

func TestLiveRewritesInPlaceAndKeepsTheLastState(t *testing.T) {
	var b bytes.Buffer
	d, now := movedDisplay(&b, true)
	d.Line("applied Deployment/web")
	d.Status("web", "web: 1/2 updated")
	*now = now.Add(time.Second)
	d.Status("web", "web: 2/2 updated")
	d.Status("web", "web: 2/2 updated, 2 ready") // within 100ms: not drawn yet
	d.Line("web release r1 is live")
	d.Status("push", "push uploading 12.0 MiB of 48.0 MiB, a long line cut to the width")
	d.Done()
	want := "applied Deployment/web\n" +
		"\r\x1b[Kweb: 1/2 updated" + "\r\x1b[Kweb: 2/2 updated" + "\r\x1b[Kweb: 2/2 updated, 2 ready\n" +
		"web release r1 is live\n" +
		"\r\x1b[Kpush uploading 12.0 MiB of 48.0 MiB, a…" + "\n"
	if b.String() != want {
		t.Errorf("live output:\n%q\nwant\n%q", b.String(), want)
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 3 << 10: "3.0 KiB", 12 << 20: "12.0 MiB", 5 << 29: "2.50 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestPlainStatusIsThrottledPerKey(t *testing.T) {
	var b bytes.Buffer
	d := Plain(&b, 10*time.Second)
	now := time.Unix(1000, 0)
	d.now = func() time.Time { return now }
	d.Status("push", "push 1/10 MiB")
	d.Status("push", "push 2/10 MiB") // same key, too soon: dropped
	now = now.Add(11 * time.Second)
	d.Status("push", "push 7/10 MiB") // interval passed
	d.Status("sbom", "sbom")          // new key: at once
	d.Line("pushed")
	want := "push 1/10 MiB\npush 7/10 MiB\nsbom\npushed\n"
	if b.String() != want {
		t.Errorf("plain output:\n%q\nwant\n%q", b.String(), want)
	}
	if d.Live() {
		t.Error("a buffer is not a terminal")
	}
}

func TestLiveRedrawsTheStatusBelowLines(t *testing.T) {
	var b bytes.Buffer
	d := Plain(&b, time.Second)
	now := time.Unix(1000, 0)
	d.now = func() time.Time { return now }
	d.tty = true
	d.width = func() int { return 12 }
	d.Status("push", "push 1/10 MiB of the deps layer")
	d.Status("push", "push 2/10 MiB of the deps layer") // within 100ms: not drawn, but kept
	d.Line("base cached")
	d.Clear()
	got := b.String()
	// The status is cut to the width (11 columns), a line clears it and redraws it below.
	want := "\r\x1b[Kpush 1/10 …" + "\r\x1b[Kbase cached\npush 2/10 …" + "\r\x1b[K"
	if got != want {
		t.Errorf("live output:\n%q\nwant\n%q", got, want)
	}
	if strings.Count(got, "\n") != 1 {
		t.Errorf("the status line must never end a line: %q", got)
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 3 << 10: "3.0 KiB", 12 << 20: "12.0 MiB", 5 << 29: "2.50 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

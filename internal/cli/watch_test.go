package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/platform"
)

func TestEventPrinterSaysEachMessageOnce(t *testing.T) {
	var b bytes.Buffer
	p := newEventPrinter(&b)
	diag := "replica a-r2-1 of r2 failed: it exited\nlast log lines:\n  boom"
	for _, e := range []platform.Event{{Message: "starting 1 replica(s) of r2"}, {Message: diag}, {Message: "stopping r2"}, {Message: diag}, {Warning: "w"}, {Warning: "w"}} {
		p.print(e)
	}
	p.close()
	if n := strings.Count(b.String(), "of r2 failed"); n != 1 || strings.Count(b.String(), "warning: w") != 1 || !p.said(diag) {
		t.Errorf("printed:\n%s", b.String())
	}
}

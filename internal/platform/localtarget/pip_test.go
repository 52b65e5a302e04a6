package localtarget

import (
	"bytes"
	"testing"

	"github.com/pyship/pyship/internal/progress"
)

func TestLineStatusShowsPipLines(t *testing.T) {
	var b bytes.Buffer
	d := progress.Plain(&b, 0)
	w := &lineStatus{d: d, key: "pip", prefix: "installing: "}
	w.Write([]byte("Collecting fla"))
	w.Write([]byte("sk\n\nSuccessfully installed flask-2.2.2\n"))
	d.Done()
	if got := b.String(); got != "installing: Collecting flask\ninstalling: Successfully installed flask-2.2.2\n" {
		t.Errorf("shown %q", got)
	}
}

package localtarget

import (
	"bytes"
	"strings"

	"github.com/pyship/pyship/internal/progress"
)

// lineStatus is an io.Writer that shows each line written to it as the status of key on a
// progress display: pip's "Collecting flask" lines as one live line on a terminal, a line now
// and then in a log.
type lineStatus struct {
	d      *progress.Display
	key    string
	prefix string
	buf    []byte
}

func (l *lineStatus) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(l.buf[:i])); line != "" {
			l.d.Status(l.key, "%s%s", l.prefix, line)
		}
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

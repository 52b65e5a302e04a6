package detect

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// ProcfileEntry is one process of a Procfile.
type ProcfileEntry struct {
	Name    string
	Command []string
	Line    int
}

// readProcfile parses the Procfile of the project ("name: command" lines); nil when absent.
func (p *Project) readProcfile() ([]ProcfileEntry, error) {
	text, err := p.readText("Procfile")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading Procfile: %w", err)
	}
	var out []ProcfileEntry
	for i, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		name, cmd, ok := strings.Cut(l, ":")
		if !ok || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("Procfile:%d: %q is not a process line; write NAME: COMMAND, e.g. web: gunicorn app:app", i+1, l)
		}
		argv, err := SplitCommand(strings.TrimSpace(cmd))
		if err != nil {
			return nil, fmt.Errorf("Procfile:%d: %v; fix the quoting", i+1, err)
		}
		if len(argv) == 0 {
			return nil, fmt.Errorf("Procfile:%d: process %s has no command", i+1, name)
		}
		out = append(out, ProcfileEntry{Name: strings.TrimSpace(name), Command: argv, Line: i + 1})
	}
	return out, nil
}

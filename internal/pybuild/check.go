package pybuild

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// SyntaxError is a Python file that does not compile.
type SyntaxError struct {
	File string `json:"file"` // relative to the project folder, slash-separated
	Line int    `json:"line"`
	Col  int    `json:"col"`
	Msg  string `json:"message"`
}

func (e SyntaxError) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// checkScript compiles the files named on its stdin in memory and prints one JSON line per error.
//
//go:embed check.py
var checkScript string

// checkLine is one line of checkScript's output: an error for file number I, or the final count.
type checkLine struct {
	I       int    `json:"i"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Msg     string `json:"msg"`
	Checked *int   `json:"checked"`
}

// Check compiles every .py file among files (relative to dir) with the interpreter python
// and returns each syntax error. The error return is for failures to run the check at all.
//
// All files are compiled by one Python process, in memory: nothing of the app is imported or
// executed and no __pycache__ is written. Syntax, indentation, tab, encoding and null-byte
// errors and unreadable files are all reported as SyntaxError, sorted by file then position.
func Check(ctx context.Context, python, dir string, files []string) ([]SyntaxError, error) {
	var py []string
	for _, f := range files {
		if strings.HasSuffix(f, ".py") {
			py = append(py, filepath.ToSlash(f))
		}
	}
	if len(py) == 0 {
		return nil, nil
	}
	var in bytes.Buffer
	for _, f := range py {
		in.WriteString(filepath.FromSlash(f))
		in.WriteByte(0)
	}
	// -I: ignore PYTHON* variables, user site and the current folder; -S: no site import;
	// -B: never write bytecode.
	cmd := exec.CommandContext(ctx, python, "-I", "-S", "-B", "-c", checkScript, dir)
	cmd.Stdin = &in
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("checking the syntax of %d python files in %s: %w", len(py), dir, ctx.Err())
		}
		return nil, fmt.Errorf("checking python syntax with %s: %v%s; install python3 (e.g. `apt-get install python3`) or set PYSHIP_PYTHON to a working interpreter",
			python, err, stderrTail(stderr.Bytes()))
	}
	errs, checked, err := parseCheckOutput(out.Bytes(), py)
	if err != nil {
		return nil, fmt.Errorf("reading the output of the python syntax check (%s): %w%s", python, err, stderrTail(stderr.Bytes()))
	}
	if checked != len(py) {
		return nil, fmt.Errorf("the python syntax check (%s) compiled %d of %d files; this is a bug in pyship, please report it", python, checked, len(py))
	}
	sort.Slice(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return errs, nil
}

// parseCheckOutput turns checkScript's JSON lines into errors for the files in names.
func parseCheckOutput(out []byte, names []string) (errs []SyntaxError, checked int, err error) {
	checked = -1
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l checkLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, 0, fmt.Errorf("unexpected line %q: %w", sc.Text(), err)
		}
		if l.Checked != nil {
			checked = *l.Checked
			continue
		}
		if l.I < 0 || l.I >= len(names) {
			return nil, 0, fmt.Errorf("error for unknown file number %d", l.I)
		}
		errs = append(errs, SyntaxError{File: names[l.I], Line: l.Line, Col: l.Col, Msg: l.Msg})
	}
	if err := sc.Err(); err != nil {
		return nil, 0, err
	}
	if checked < 0 {
		return nil, 0, fmt.Errorf("it stopped before the end")
	}
	return errs, checked, nil
}

// stderrTail is the last part of a subprocess's stderr, formatted to follow an error message.
func stderrTail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	const max = 2000
	if len(s) > max {
		s = "..." + s[len(s)-max:]
	}
	return ": " + s
}

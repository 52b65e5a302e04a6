package pybuild

import (
	"context"
	"errors"
	"fmt"
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

// Check compiles every .py file among files (relative to dir) with the interpreter python
// and returns each syntax error. The error return is for failures to run the check at all.
func Check(ctx context.Context, python, dir string, files []string) ([]SyntaxError, error) {
	return nil, errors.New("pybuild.Check: not implemented")
}

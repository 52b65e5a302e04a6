package pybuild_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/pyship/pyship/internal/pybuild"
)

func ExampleAppFiles() {
	files, err := pybuild.AppFiles("testdata/clean", pybuild.DataExcludes("data"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range files {
		fmt.Println(f)
	}
	// Output:
	// app/__init__.py
	// app/bom_crlf.py
	// app/latin1_declared.py
	// app/soft_keywords.py
	// main.py
}

func ExampleCheck() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	python, _, err := pybuild.FindPython(ctx, "3.11", os.Environ())
	if err != nil {
		fmt.Println(err)
		return
	}
	errs, err := pybuild.Check(ctx, python, "testdata/broken", []string{"missing_colon.py", "tabs.py", "pkg/ok.py", "README.md"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range errs {
		fmt.Println(e)
	}
	// Output:
	// missing_colon.py:1:19: expected ':'
	// tabs.py:3:1: inconsistent use of tabs and spaces in indentation
}

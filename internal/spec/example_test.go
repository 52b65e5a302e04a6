package spec_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pyship/pyship/internal/spec"
)

func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "app")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "pyship.toml"), []byte(`name = "shop"

[run]
port = 8000

[env.production.run]
workers = 8
`), 0o644)

	s, err := spec.Load(dir, "production")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Name, s.Run.Port, s.Run.Workers, s.Environments, s.Positions["run.workers"].Line)
	// Output: shop 8000 8 [production] 7
}

func ExampleParse_errors() {
	_, err := spec.Parse("pyship.toml", []byte("[run]\nport = 70000\nkidn = \"web\"\n"), "")
	var errs spec.Errors
	if errors.As(err, &errs) {
		fmt.Println(len(errs), "problems:")
		fmt.Println(err)
	}
	// Output:
	// 2 problems:
	// pyship.toml:2:8: run.port: must be between 1 and 65535, got 70000
	// pyship.toml:3:1: run.kidn: unknown key "kidn" in [run]; allowed keys: command, kind, port, workers
	//     hint: did you mean "kind"?
}

func ExampleRender() {
	out, _ := spec.Render([]spec.Entry{
		{Path: "name", Value: "shop"},
		{Path: "run.command", Value: "gunicorn app:app", Comment: "Found in Procfile."},
		{Path: "run.workers", Value: 4, Commented: true},
	})
	fmt.Print(string(out))
	// Output:
	// name = "shop"
	//
	// [run]
	// # Found in Procfile.
	// command = "gunicorn app:app"
	// # workers = 4
}

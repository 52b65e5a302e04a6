package plan_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pyship/pyship/internal/detect"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/spec"
)

// A FastAPI app in a src/ layout, with uvicorn in its dependencies, planned without a spec.
func ExampleAssemble() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(dir, "src", "api"), 0o755)
	os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte("fastapi\nuvicorn\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "src", "api", "main.py"), []byte("from fastapi import FastAPI\n\napp = FastAPI()\n"), 0o644)

	proj, err := detect.Analyze(context.Background(), dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := plan.Assemble(&spec.Spec{}, proj)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Run.Shell)
	fmt.Println(p.Run.PythonPath, p.Run.Port, p.Health.Type)
	fmt.Println(plan.FormatEvidence(p.Evidence["run.command"]))
	// Output:
	// uvicorn --host 0.0.0.0 --port ${PORT} --workers 2 api.main:app
	// [src] 8000 http
	// (src/api/main.py:3, rule: FastAPI application object)
}

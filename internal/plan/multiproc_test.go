package plan

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyship/pyship/internal/testsvc"
)

// TestPrometheusMultiproc: an app that uses prometheus_client under gunicorn gets
// multi-process mode, unless it configures gunicorn or the mode itself, which is then left
// alone with a warning that says what to add.
func TestPrometheusMultiproc(t *testing.T) {
	const app = "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n"
	tests := []struct {
		name    string
		files   map[string]string
		on      bool
		warning string
	}{
		{"gunicorn and prometheus_client", map[string]string{"requirements.txt": "gunicorn\nprometheus-client==0.16.0\n"}, true, ""},
		{"spelt prometheus_client", map[string]string{"requirements.txt": "gunicorn\nPrometheus_Client\n"}, true, ""},
		{"no prometheus_client", map[string]string{"requirements.txt": "gunicorn\n"}, false, ""},
		{"own gunicorn.conf.py", map[string]string{"requirements.txt": "gunicorn\nprometheus_client\n", "gunicorn.conf.py": "workers = 2\n"},
			false, "gunicorn.conf.py: the app uses prometheus_client under gunicorn and has its own gunicorn config"},
		{"config in the command", map[string]string{"requirements.txt": "gunicorn\nprometheus_client\n",
			"pyship.toml": "[run]\ncommand = \"gunicorn -c conf.py app:app\"\n"}, false, "the start command passes a gunicorn config (gunicorn -c conf.py app:app)"},
		{"env sets the folder", map[string]string{"requirements.txt": "gunicorn\nprometheus_client\n",
			"pyship.toml": "[run]\ncommand = \"gunicorn app:app\"\n[env]\nPROMETHEUS_MULTIPROC_DIR = \"/tmp/p\"\n"}, false, "[env] sets PROMETHEUS_MULTIPROC_DIR"},
		{"not gunicorn", map[string]string{"requirements.txt": "uvicorn\nprometheus_client\n", "pyship.toml": "[run]\ncommand = \"uvicorn app:app\"\n"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.files["app.py"] = app
			if _, ok := tt.files["pyship.toml"]; !ok {
				tt.files["pyship.toml"] = "[run]\ncommand = \"gunicorn app:app\"\n"
			}
			for name, data := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p, err := Resolve(context.Background(), dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Run.PrometheusMultiproc != tt.on {
				t.Errorf("prometheusMultiproc = %v, want %v (warnings %q)", p.Run.PrometheusMultiproc, tt.on, p.Warnings)
			}
			var found []string
			for _, w := range p.Warnings {
				if strings.Contains(w, "multi-process") {
					found = append(found, w)
				}
			}
			switch {
			case tt.warning == "" && len(found) > 0:
				t.Errorf("unexpected warnings %q", found)
			case tt.warning != "" && (len(found) != 1 || !strings.Contains(found[0], tt.warning) || !strings.Contains(found[0], "mark_process_dead")):
				t.Errorf("warnings %q, want one saying %q and how to set the mode up", found, tt.warning)
			}
		})
	}
}

// TestGunicornArgs: the config path survives gunicorn's split of GUNICORN_CMD_ARGS, checked
// with Python's shlex.split, which gunicorn uses.
func TestGunicornArgs(t *testing.T) {
	py := testsvc.Start(t, "python")["PYSHIP_TEST_PYTHON"]
	for _, path := range []string{"/a/b/conf.py", "/with space/conf.py", "/it's/conf.py", `/back\slash/"q"/$HOME/conf.py`} {
		out, err := exec.Command(py, "-c", "import shlex, sys; print(*shlex.split(sys.argv[1]), sep='|', end='')", GunicornArgs(path)).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := string(out); got != "--config="+path {
			t.Errorf("GunicornArgs(%q) splits into %q", path, strings.Split(got, "|"))
		}
	}
}

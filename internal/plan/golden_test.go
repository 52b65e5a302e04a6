package plan

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pyship/pyship/internal/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// golden compares got with testdata/golden/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test ./internal/plan -update if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func canarySpec(dir string) *spec.Spec {
	file := filepath.Join(dir, "pyship.toml")
	return &spec.Spec{
		Run:    spec.Run{Workers: 4},
		Deploy: spec.Deploy{Strategy: "canary", Replicas: 2, Canary: spec.Canary{Steps: []int{20, 100}, Pause: time.Minute}},
		Env:    map[string]string{"LOG_LEVEL": "info", "API_TOKEN": "secret-value-not-printed"},
		File:   file,
		Positions: map[string]spec.Pos{
			"run.workers": {File: file, Line: 2}, "deploy.strategy": {File: file, Line: 5}, "deploy.replicas": {File: file, Line: 6},
			"deploy.canary.steps": {File: file, Line: 9}, "deploy.canary.pause": {File: file, Line: 10},
			"env.LOG_LEVEL": {File: file, Line: 13}, "env.API_TOKEN": {File: file, Line: 14},
		},
	}
}

// backupSpec is a [backup] table with a schedule, an SQLite file and a PostgreSQL database.
func backupSpec(dir string) *spec.Spec {
	file := filepath.Join(dir, "pyship.toml")
	return &spec.Spec{
		Backup: spec.Backup{Schedule: "0 3 * * *", Destination: "s3://acme-backups/shop",
			Recipients:        []string{"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"},
			SigningPublicKeys: []string{"pyship-sign-ed25519:mXrQ3VhBq7d0H1eH2f8k0bQ6fR9lq1W0n1cY3m6KcJg"},
			KeepDaily:         14, SQLite: []string{"./data/app.db"}, Postgres: []string{"db=DATABASE_URL"}},
		Data: spec.Data{Persistent: []string{"data"}},
		Env:  map[string]string{},
		File: file,
		Positions: map[string]spec.Pos{
			"data.persistent": {File: file, Line: 2}, "backup.schedule": {File: file, Line: 5}, "backup.destination": {File: file, Line: 6},
			"backup.recipients": {File: file, Line: 7}, "backup.signing_public_keys": {File: file, Line: 11}, "backup.keep_daily": {File: file, Line: 8},
			"backup.sqlite": {File: file, Line: 9}, "backup.postgres": {File: file, Line: 10},
		},
	}
}

// monitorSpec is a [monitor] table with both objectives and the default window and percentile.
func monitorSpec(dir string) *spec.Spec {
	file := filepath.Join(dir, "pyship.toml")
	return &spec.Spec{
		Monitor: spec.Monitor{Availability: 99.9, Latency: 300 * time.Millisecond},
		Env:     map[string]string{},
		File:    file,
		Positions: map[string]spec.Pos{
			"monitor.availability": {File: file, Line: 2}, "monitor.latency": {File: file, Line: 3},
		},
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name    string
		project string
		spec    func(dir string) *spec.Spec
	}{
		{"flask", "flask-gunicorn", func(string) *spec.Spec { return &spec.Spec{} }},
		{"fastapi-canary", "fastapi-src", canarySpec},
		{"worker", "worker", func(string) *spec.Spec { return &spec.Spec{} }},
		{"django-noserver", "django-noserver", func(string) *spec.Spec { return &spec.Spec{} }},
		{"uv", "multi-deps", func(string) *spec.Spec { return &spec.Spec{} }},
		{"backup", "flask-gunicorn", backupSpec},
		{"hardcoded-port", "hardcoded-port", func(string) *spec.Spec { return &spec.Spec{} }},
		{"monitor", "flask-gunicorn", monitorSpec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proj := analyze(t, tt.project)
			p, err := Assemble(tt.spec(proj.Dir), proj)
			if err != nil {
				t.Fatal(err)
			}
			p.Dir = "/project"
			if p.SpecFile != "" {
				p.SpecFile = "/project/pyship.toml"
			}
			for _, explain := range []bool{false, true} {
				var buf bytes.Buffer
				if err := WriteText(&buf, p, explain); err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(buf.Bytes(), []byte("secret-value-not-printed")) {
					t.Error("the text shows an env value; it must show names only")
				}
				suffix := ".txt"
				if explain {
					suffix = ".explain.txt"
				}
				golden(t, tt.name+suffix, buf.Bytes())
			}
			b, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".json", append(b, '\n'))
		})
	}
}

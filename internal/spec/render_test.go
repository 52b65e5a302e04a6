package spec

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	entries := []Entry{
		{Comment: "pyship.toml: see docs/spec.md"},
		{Path: "name", Value: "shop", Comment: "Name of the app."},
		{Path: "run.command", Value: `gunicorn "app:create_app()"`, Comment: "Found in Procfile.\nChange it if needed."},
		{Path: "run.port", Value: 8000},
		{Path: "run.workers", Value: 4, Commented: true, Comment: "Uncomment to change."},
		{Path: "deploy.canary.steps", Value: []int{10, 50, 100}},
		{Path: "deploy.canary.max_latency_ratio", Value: 2.0},
		{Path: "deploy.canary.max_error_rate", Value: 0.01},
		{Path: "deploy.canary.pause", Value: 90 * time.Second},
		{Path: "deploy.replicas", Value: 2},
		{Path: "deploy.rollback_window", Value: 10 * time.Minute},
		{Path: "deploy.backup_before", Value: true},
		{Path: "backup.destination", Value: "s3://b/shop"},
		{Path: "backup.recipients", Value: []string{"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"}},
		{Path: "data.persistent", Value: []string{"data", "up loads \"x\""}},
		{Path: "env.DEBUG", Value: false},
		{Path: "env.GREETING", Value: "line1\nline2\ttab\\"},
		{Path: "env.production.run.workers", Value: 8},
		{Path: "env.production.env.DEBUG", Value: "0"},
		{Path: "version", Value: "1.0"},
	}
	out, err := Render(entries)
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{
		"# pyship.toml: see docs/spec.md\n",
		"# Name of the app.\nname = \"shop\"\n",
		"version = \"1.0\"\n\n[run]\n",
		"# Found in Procfile.\n# Change it if needed.\ncommand = \"gunicorn \\\"app:create_app()\\\"\"\n",
		"\n# Uncomment to change.\n# workers = 4\n",
		"[deploy.canary]\nsteps = [10, 50, 100]\nmax_latency_ratio = 2.0\n",
		"pause = \"1m30s\"\n",
		"rollback_window = \"10m\"\n",
		"[env.production.run]\nworkers = 8\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Index(text, "version =") > strings.Index(text, "[run]") {
		t.Errorf("top-level keys must come before tables:\n%s", text)
	}
	if strings.Count(text, "[deploy.canary]") != 1 || strings.Index(text, "[deploy.canary]") > strings.Index(text, "[deploy]\n") {
		t.Errorf("want one [deploy.canary], in first-seen order before [deploy]:\n%s", text)
	}

	s, err := Parse("pyship.toml", out, "production")
	if err != nil {
		t.Fatalf("rendered spec does not load: %v\n%s", err, text)
	}
	if s.Name != "shop" || s.Version != "1.0" || s.Run.Command != `gunicorn "app:create_app()"` || s.Run.Port != 8000 ||
		s.Run.Workers != 8 || s.Deploy.Replicas != 2 || !s.Deploy.BackupBefore ||
		s.Deploy.RollbackWindow != 10*time.Minute || s.Deploy.Canary.Pause != 90*time.Second ||
		s.Deploy.Canary.MaxLatencyRatio != 2 || s.Deploy.Canary.MaxErrorRate != 0.01 ||
		!reflect.DeepEqual(s.Deploy.Canary.Steps, []int{10, 50, 100}) ||
		!reflect.DeepEqual(s.Data.Persistent, []string{"data", "up loads \"x\""}) {
		t.Errorf("round trip: %+v", s)
	}
	if !reflect.DeepEqual(s.Env, map[string]string{"DEBUG": "0", "GREETING": "line1\nline2\ttab\\"}) {
		t.Errorf("round trip env: %v", s.Env)
	}
	base, err := Parse("pyship.toml", out, "")
	if err != nil || base.Run.Workers != 0 {
		t.Errorf("the commented workers entry must stay a comment: %+v, %v", base, err)
	}
}

// TestRenderEveryField renders each field's documented example and loads it back.
func TestRenderEveryField(t *testing.T) {
	var entries []Entry
	want := &Spec{}
	for _, f := range fields() {
		if f.kind == kindTable || f.kind == kindTables || f.ptr == nil {
			continue // arrays of tables are not rendered (TestCanaryChecks reads them)
		}
		d := newDecoder(fields(), "")
		doc := parseDocument("example.toml", []byte("x = "+f.example+"\n"), nil)
		d.leaf(f, doc.root.tbl.get("x"))
		if len(d.errs) > 0 {
			t.Fatalf("%s: example %s does not decode: %v", f.path, f.example, d.errs)
		}
		value := reflect.ValueOf(f.ptr(d.spec)).Elem().Interface()
		setValue(f.ptr(want), value)
		entries = append(entries, Entry{Path: f.path, Value: value})
	}
	out, err := Render(entries)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("pyship.toml", out, "")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want.Env, want.File, got.Positions = map[string]string{}, "pyship.toml", nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestRenderErrors(t *testing.T) {
	for _, entries := range [][]Entry{
		{{Path: "run..port", Value: 1}},
		{{Path: "run.port", Value: struct{}{}}},
		{{Path: "run.port", Value: nil}},
		{{Path: "run.port", Value: 1}, {Path: "run.port", Value: 2}},
	} {
		if out, err := Render(entries); err == nil || !strings.HasPrefix(err.Error(), "rendering spec: ") {
			t.Errorf("Render(%v) = %q, %v; want an error", entries, out, err)
		}
	}
}

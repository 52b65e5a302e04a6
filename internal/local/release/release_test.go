package release

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadSecrets(t *testing.T) {
	f := filepath.Join(t.TempDir(), "prod.env")
	os.WriteFile(f, []byte("# comment\n\nexport TOKEN='a b'\nDB_URL=\"postgres://x\"\nPLAIN = v\n"), 0o600)
	got, err := ReadSecrets(f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"TOKEN": "a b", "DB_URL": "postgres://x", "PLAIN": "v"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadSecrets() = %v, want %v", got, want)
	}
	os.WriteFile(f, []byte("GOOD=1\nnot a pair\n"), 0o600)
	if _, err := ReadSecrets(f); err == nil || !strings.Contains(err.Error(), "prod.env:2: expected KEY=value") {
		t.Errorf("bad line: %v", err)
	}
	if _, err := ReadSecrets(f + ".missing"); err == nil || !strings.Contains(err.Error(), "[secrets] file") {
		t.Errorf("missing file: %v", err)
	}
}

func TestLinkDataSurvivesReleases(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	rel1 := filepath.Join(root, "r1")
	os.MkdirAll(filepath.Join(rel1, "uploads"), 0o755)
	os.WriteFile(filepath.Join(rel1, "uploads", "seed.txt"), []byte("seed"), 0o644)
	if err := linkData(rel1, data, "uploads"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(rel1, "uploads", "user.txt"), []byte("kept"), 0o644)
	rel2 := filepath.Join(root, "r2")
	os.MkdirAll(filepath.Join(rel2, "uploads"), 0o755)
	os.WriteFile(filepath.Join(rel2, "uploads", "seed.txt"), []byte("new seed"), 0o644)
	if err := linkData(rel2, data, "uploads"); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{"seed.txt": "seed", "user.txt": "kept"} {
		b, err := os.ReadFile(filepath.Join(rel2, "uploads", file))
		if err != nil || string(b) != want {
			t.Errorf("%s in the next release = %q, %v; want %q", file, b, err, want)
		}
	}
	if err := linkData(rel2, data, "../escape"); err == nil {
		t.Error("a data folder outside the project was accepted")
	}
}

func TestPruneKeepsNewestAndInUse(t *testing.T) {
	p := Paths{Home: t.TempDir()}
	for _, id := range []string{"r1", "r2", "r3", "r4", "r10"} {
		d := filepath.Join(p.Releases("app"), id)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "release.json"), []byte("{}"), 0o644)
	}
	Prune(p, "app", 2, map[string]bool{"r1": true})
	if got := List(p, "app"); !reflect.DeepEqual(got, []string{"r1", "r4", "r10"}) {
		t.Errorf("after Prune: %v, want r1 (in use), r4, r10", got)
	}
	if id, err := nextID(p.Releases("app")); err != nil || id != "r11" {
		t.Errorf("nextID = %q, %v; want r11", id, err)
	}
}

func TestRollbackTarget(t *testing.T) {
	ids := []string{"r1", "r2", "r3", "r4", "r5"}
	for _, tc := range []struct {
		name     string
		promoted []string
		stable   string
		want     string
	}{
		{"the one before stable", []string{"r1", "r2", "r3"}, "r3", "r2"},
		{"skips a failed release", []string{"r1", "r3"}, "r3", "r1"},
		{"skips several failed releases", []string{"r1", "r5"}, "r5", "r1"},
		{"never newer than stable", []string{"r1", "r2", "r4", "r5"}, "r2", "r1"},
		{"after a rollback, the one before the new stable", []string{"r1", "r2", "r3"}, "r2", "r1"},
		{"nothing promoted before stable", []string{"r3"}, "r3", ""},
		{"the first release", []string{"r1"}, "r1", ""},
		{"no stable release", []string{"r1"}, "", ""},
		{"a stable release already pruned", []string{"r1"}, "r9", ""},
	} {
		promoted := map[string]bool{}
		for _, id := range tc.promoted {
			promoted[id] = true
		}
		if got := RollbackTarget(ids, promoted, tc.stable); got != tc.want {
			t.Errorf("%s: RollbackTarget(stable %s, promoted %v) = %q, want %q", tc.name, tc.stable, tc.promoted, got, tc.want)
		}
	}
}

func TestPrunable(t *testing.T) {
	ids := []string{"r1", "r2", "r3", "r4", "r5", "r6", "r7"}
	set := func(ids ...string) map[string]bool {
		m := map[string]bool{}
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	for _, tc := range []struct {
		name            string
		promoted, inUse map[string]bool
		keep            int
		want            []string
	}{
		{"all good: the newest keep stay", set(ids...), nil, 3, []string{"r1", "r2", "r3", "r4"}},
		{"failed releases do not push good ones out", set("r1", "r2", "r3"), nil, 3, []string{"r4"}},
		{"recent failures stay for their logs", set("r1", "r2", "r3", "r4", "r5"), set(), 3, []string{"r1", "r2"}},
		{"in use stays", set(ids...), set("r1"), 3, []string{"r2", "r3", "r4"}},
		{"an unpromoted release in use stays", set("r1"), set("r2"), 1, []string{"r3", "r4", "r5", "r6"}},
		{"nothing promoted (older homes): the newest keep stay", nil, nil, 2, []string{"r1", "r2", "r3", "r4", "r5"}},
	} {
		if got := Prunable(ids, tc.promoted, tc.keep, tc.inUse); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Prunable(keep %d) = %v, want %v", tc.name, tc.keep, got, tc.want)
		}
	}
}

func TestPruneKeepsPromoted(t *testing.T) {
	p := Paths{Home: t.TempDir()}
	for _, id := range []string{"r1", "r2", "r3", "r4"} {
		d := filepath.Join(p.Releases("app"), id)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "release.json"), []byte("{}"), 0o644)
	}
	for _, id := range []string{"r1", "r2"} {
		if err := MarkPromoted(p, "app", id); err != nil {
			t.Fatal(err)
		}
	}
	Prune(p, "app", 2, nil)
	if got := List(p, "app"); !reflect.DeepEqual(got, []string{"r1", "r2", "r3", "r4"}) {
		t.Errorf("after Prune: %v, want every release: r3 and r4 failed, r1 and r2 are the 2 kept good ones", got)
	}
	if got := RollbackTarget(List(p, "app"), Promotions(p, "app", List(p, "app")), "r2"); got != "r1" {
		t.Errorf("RollbackTarget from disk = %q, want r1", got)
	}
}

func TestCheckRollback(t *testing.T) {
	ids := []string{"r1", "r2", "r3"}
	promoted := map[string]bool{"r1": true, "r3": true}
	for _, tc := range []struct {
		target string
		force  bool
		want   string // "" for allowed
	}{
		{"r1", false, ""},
		{"r2", false, "release r2 of app was never promoted (its deploy failed or was aborted)"},
		{"r2", true, ""},
		{"r3", false, "r3 is already the stable release of app; its releases are: r1, r2 (never promoted), r3 (stable)"},
		{"r9", true, "app has no release r9; its releases are: r1, r2 (never promoted), r3 (stable)"},
	} {
		err := CheckRollback("app", ids, promoted, "r3", tc.target, tc.force)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("rollback to %s (force %v): %v, want %q", tc.target, tc.force, err, tc.want)
		}
	}
}

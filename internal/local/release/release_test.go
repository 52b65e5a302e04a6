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

package backup

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// swapContents is how a folder that is a mount point (a Kubernetes volume) is restored: its
// entries are replaced, the folder itself stays.
func TestSwapContentsReplacesWhatAFolderHolds(t *testing.T) {
	target := t.TempDir()
	for _, f := range []string{"old.txt", "sub/deep.txt"} {
		os.MkdirAll(filepath.Join(target, filepath.Dir(f)), 0o755)
		if err := os.WriteFile(filepath.Join(target, f), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(target, ".pyship-restore-X")
	if err := os.MkdirAll(filepath.Join(tmp, "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "sub", "new.txt"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := swapContents(tmp, tmp, target, "20261125T091400Z-3f9a"); err != nil {
		t.Fatal(err)
	}
	var got []string
	filepath.Walk(target, func(p string, fi os.FileInfo, err error) error {
		if rel, _ := filepath.Rel(target, p); rel != "." && err == nil {
			got = append(got, rel)
		}
		return err
	})
	os.RemoveAll(tmp) // restoreOne's deferred cleanup
	sort.Strings(got)
	if len(got) != 3 || got[0] != ".pyship-restore-X" || got[1] != "sub" || got[2] != "sub/new.txt" {
		t.Errorf("after the swap the folder holds %v, want only sub/new.txt (and the emptied restore folder)", got)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o750 {
		t.Errorf("folder mode %v, want the restored one's 0750", fi.Mode().Perm())
	}
}

package image_test

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// layerFiles reads one layer into name -> header and content.
func layerFiles(t *testing.T, l v1.Layer) (map[string]*tar.Header, map[string][]byte) {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	hs, data := map[string]*tar.Header{}, map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		hs[h.Name], data[h.Name] = h, b
	}
	return hs, data
}

func TestImageContentsAndConfig(t *testing.T) {
	dir := copyApp(t, "flask")
	// Things that must never ship.
	for _, p := range []string{".git/config", ".venv/bin/python", "__pycache__/app.cpython-311.pyc"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644)
	}
	res := build(t, appPlan(t, "flask", dir), "")
	layers, err := res.Image.Layers()
	if err != nil {
		t.Fatal(err)
	}
	baseLayers, _ := res.Base.Image.Layers()
	if len(layers) != len(baseLayers)+2 {
		t.Fatalf("image has %d layers, want the base's %d plus 2", len(layers), len(baseLayers))
	}
	deps, depData := layerFiles(t, layers[len(layers)-2])
	app, appData := layerFiles(t, layers[len(layers)-1])

	// Every .pyc is hash-based and checked (PEP 552: the 32-bit flags after the magic number
	// are 0b11), so it stays valid whatever the files' mtimes, and holds the source's hash.
	pycs := 0
	for _, files := range []map[string][]byte{depData, appData} {
		for name, b := range files {
			if !strings.HasSuffix(name, ".pyc") {
				continue
			}
			pycs++
			if len(b) < 16 || binary.LittleEndian.Uint32(b[4:8]) != 0b11 {
				t.Fatalf("%s: pyc header %x, want the flags 0b11 of a checked hash-based pyc", name, b[:min(len(b), 16)])
			}
		}
	}
	src := appData["app/app.py"]
	pyc := appData["app/__pycache__/app.cpython-311.pyc"]
	if pycs < 100 || len(pyc) < 16 || !bytes.Equal(pyc[8:16], sourceHash(t, src)) {
		t.Errorf("%d pyc files; app.pyc holds source hash %x, want %x (importlib.util.source_hash of app.py)", pycs, pyc[8:min(len(pyc), 16)], sourceHash(t, src))
	}

	// The console-script launcher runs the image's interpreter, not the build host's.
	launcher := string(depData["opt/pyship/deps/bin/gunicorn"])
	if first, _, _ := strings.Cut(launcher, "\n"); first != "#!/usr/bin/python3.11" {
		t.Errorf("gunicorn launcher starts with %q, want #!/usr/bin/python3.11", first)
	}
	if h := deps["opt/pyship/deps/bin/gunicorn"]; h == nil || h.Mode&0o111 == 0 {
		t.Errorf("gunicorn launcher missing or not executable: %+v", h)
	}
	if deps["opt/pyship/deps/flask/__pycache__/app.cpython-311.pyc"] == nil {
		t.Errorf("dependencies are not byte-compiled")
	}
	for name, h := range deps {
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.ModTime.Unix() != 315532800 {
			t.Fatalf("%s: owner %d:%d %q:%q mtime %v, want 0:0 without names at 1980-01-01", name, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime)
		}
		if h.Mode&0o444 != 0o444 {
			t.Fatalf("%s: mode %o not readable by the app's user", name, h.Mode)
		}
	}
	for _, want := range []string{"app/app.py", "app/requirements.txt", "app/config/greeting.txt", "app/__pycache__/app.cpython-311.pyc"} {
		if app[want] == nil {
			t.Errorf("app layer lacks %s", want)
		}
	}
	// The persistent data folder is an empty folder the app's user owns, and a volume.
	if h := app["app/data/"]; h == nil || h.Typeflag != tar.TypeDir || h.Uid != 65532 || h.Gid != 65532 || h.Mode != 0o755 {
		t.Errorf("app/data/ in the app layer: %+v, want a folder 0755 owned by 65532:65532", h)
	}
	for name, h := range app {
		for _, bad := range []string{"app/.git", "app/.venv", "app/.env", "app/data/"} {
			if strings.HasPrefix(name, bad) && name != "app/data/" {
				t.Errorf("app layer ships %s", name)
			}
		}
		if h.Uid != 0 && name != "app/data/" {
			t.Errorf("%s is owned by %d, want root: the app cannot change its own code", name, h.Uid)
		}
		if h.ModTime.Unix() != 1700000000 {
			t.Errorf("%s: mtime %v, want SOURCE_DATE_EPOCH 1700000000", name, h.ModTime)
		}
	}
	// Exactly one pyc for app.py: the one pyship compiled, not the stale one from the project.
	if n := strings.Count(strings.Join(keys(app), "\n"), "app.cpython-311.pyc"); n != 1 {
		t.Errorf("%d app.cpython-311.pyc in the app layer, want 1", n)
	}

	cf, err := res.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("user %q, want the non-root 65532:65532", c.User)
	}
	if c.WorkingDir != "/app" {
		t.Errorf("workdir %q", c.WorkingDir)
	}
	envs := strings.Join(c.Env, "\n")
	for _, want := range []string{"PYTHONUNBUFFERED=1", "PORT=8000", "PYTHONPATH=/app:/opt/pyship/deps", "PATH=/opt/pyship/deps/bin:", "GREETING=hi"} {
		if !strings.Contains(envs, want) {
			t.Errorf("env lacks %s:\n%s", want, envs)
		}
	}
	if got := strings.Join(c.Cmd, " "); got != "/bin/sh -c exec gunicorn --bind 0.0.0.0:${PORT} app:app" {
		t.Errorf("cmd %q", got)
	}
	if _, ok := c.Volumes["/app/data"]; !ok || len(c.Volumes) != 1 {
		t.Errorf("volumes %v, want /app/data", c.Volumes)
	}
	if _, ok := c.ExposedPorts["8000/tcp"]; !ok {
		t.Errorf("exposed ports %v", c.ExposedPorts)
	}
	if c.Labels["org.opencontainers.image.version"] != "1.0.0" || c.Labels["org.opencontainers.image.title"] != "flask-app" || c.Labels["org.opencontainers.image.created"] != "2023-11-14T22:13:20Z" {
		t.Errorf("labels %v", c.Labels)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" || cf.Created.Unix() != 1700000000 {
		t.Errorf("platform %s/%s created %v", cf.OS, cf.Architecture, cf.Created)
	}
	// The SBOM lists every Python package of the image.
	for _, want := range []string{`"name": "Flask"`, `"versionInfo": "2.2.2"`, "pkg:pypi/gunicorn@20.1.0", "pkg:pypi/werkzeug@", `"spdxVersion": "SPDX-2.3"`} {
		if !bytes.Contains(res.SBOM, []byte(want)) {
			t.Errorf("SBOM lacks %s", want)
		}
	}
}

// sourceHash is the hash a checked pyc of src holds, computed by the test Python.
func sourceHash(t *testing.T, src []byte) []byte {
	t.Helper()
	cmd := exec.Command(env(t).Python, "-c", "import importlib.util, sys; sys.stdout.write(importlib.util.source_hash(sys.stdin.buffer.read()).hex())")
	cmd.Stdin = bytes.NewReader(src)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	h, err := hex.DecodeString(string(out))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

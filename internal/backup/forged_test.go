package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"
)

// forger writes backups to the test S3 as an attacker with write access to the bucket would:
// it knows the public age recipients (they are in the spec) and nothing else.
type forger struct {
	t          *testing.T
	store      Store
	lay        layout
	recipients []string
}

func newForger(t *testing.T, cfg Config) *forger {
	t.Helper()
	st, err := NewS3Store(cfg)
	must(t, err)
	loc, err := ParseDestination(cfg.Destination)
	must(t, err)
	return &forger{t: t, store: st, lay: layout{prefix: loc.Prefix}, recipients: cfg.Recipients}
}

// object encrypts plain to the public recipients as source src of backup id and uploads it.
func (f *forger) object(ctx context.Context, id string, src Source, plain []byte) SourceRecord {
	f.t.Helper()
	rs, err := ParseRecipients(f.recipients)
	must(f.t, err)
	rec := SourceRecord{Name: src.Name, Kind: src.Kind, Origin: src.Path, Object: objectName(src)}
	var b bytes.Buffer
	must(f.t, encryptTo(ctx, &b, rs, &rec, func(w io.Writer) error { _, err := w.Write(plain); return err }))
	must(f.t, f.store.Put(ctx, f.lay.object(id, rec.Object), b.Bytes()))
	return rec
}

// manifest writes m: unsigned in the format of earlier pyship versions when key is nil,
// else signed with key (an attacker's own, or, to test defence in depth, the real one).
func (f *forger) manifest(ctx context.Context, m *Manifest, key *SigningKey) {
	f.t.Helper()
	if m.Created.IsZero() {
		ts, _, _ := strings.Cut(m.ID, "-")
		c, err := time.Parse(idTime, ts)
		must(f.t, err)
		m.Created, m.Finished = c, c
	}
	m.Recipients = f.recipients
	m.Format = ManifestFormat
	if key == nil {
		m.Format = legacyManifestFormat
	}
	b, err := json.Marshal(m)
	must(f.t, err)
	if key != nil {
		b, err = seal(*key, docManifest, f.lay.prefix, b)
		must(f.t, err)
	}
	must(f.t, f.store.Put(ctx, f.lay.manifest(m.ID), b))
}

// latest points the latest pointer at id: unsigned (as earlier pyship versions wrote it) when
// key is nil, else signed with key.
func (f *forger) latest(ctx context.Context, id string, key *SigningKey) {
	f.t.Helper()
	b := []byte(id + "\n")
	if key != nil {
		doc, err := json.Marshal(latestDoc{ID: id})
		must(f.t, err)
		b, err = seal(*key, docLatest, f.lay.prefix, doc)
		must(f.t, err)
	}
	must(f.t, f.store.Put(ctx, f.lay.latest(), b))
}

// scene is a project on disk with a configured folder source, a SQLite file, and a victim
// folder and database outside it that forged backups aim at.
type scene struct {
	root, data, db, victim, victimDB, scratch string
}

func newScene(t *testing.T) scene {
	t.Helper()
	root := t.TempDir()
	s := scene{root: root, data: filepath.Join(root, "app", "data"), db: filepath.Join(root, "app", "app.db"),
		victim: filepath.Join(root, "victim"), victimDB: filepath.Join(root, "victim.db"), scratch: filepath.Join(root, "scratch")}
	writeFile(t, filepath.Join(s.data, "orders.txt"), []byte("real orders\n"), 0o644)
	writeFile(t, filepath.Join(s.victim, "keep.txt"), []byte("outside the project\n"), 0o644)
	writeFile(t, s.victimDB, []byte("not the app's database"), 0o644)
	writeFile(t, s.victimDB+"-wal", []byte("its wal"), 0o644)
	must(t, os.MkdirAll(s.scratch, 0o755))
	return s
}

// state is treeState of the scene, where the folders that hold restore targets (app,
// scratch, and app/data when it is a mount point) are compared without their mtime: a restore
// stages beside its target (inside it for a mount point), so their mtime changes even when
// nothing is restored. Everything in them, and everything else, is compared in full.
func (s scene) state(t *testing.T) map[string]string {
	t.Helper()
	st := treeState(t, s.root)
	keys := []string{"app", "scratch"}
	if isMountPoint(s.data) {
		keys = append(keys, "app/data")
	}
	for _, k := range keys {
		if v, ok := st[k]; ok {
			st[k], _, _ = strings.Cut(v, " mtime=")
		}
	}
	return st
}

// signedScene is a scene with a folder source "data" and a SQLite source "app", their config
// on the test S3, and a forger that also holds the real signing key (a stolen key, a bug).
func signedScene(t *testing.T) (context.Context, scene, Config, []age.Identity, SigningKey, *forger) {
	t.Helper()
	s3 := startS3(t)
	sc := newScene(t)
	cfg, ids := testConfig(t, s3, Source{Name: "data", Kind: KindDir, Path: sc.data}, Source{Name: "app", Kind: KindSQLite, Path: sc.db})
	key, err := ParseSigningKey(cfg.SigningKey)
	must(t, err)
	return testCtx(t, 3*time.Minute), sc, cfg, ids, key, newForger(t, cfg)
}

// pwnTree is an archive that would overwrite the victim folder's file if restored there.
func pwnTree(t *testing.T) []byte {
	return craftTar(t, entry{name: "./", typ: tarDir, mode: 0o777}, entry{name: "keep.txt", typ: tarReg, body: "pwned\n", mode: 0o4777})
}

const (
	tarDir = '5'
	tarReg = '0'
)

// refused checks that err is one of want and names the reason.
func refused(t *testing.T, what string, err error, reason string, want ...error) {
	t.Helper()
	ok := false
	for _, w := range want {
		ok = ok || errors.Is(err, w)
	}
	if err == nil || !ok || !strings.Contains(err.Error(), reason) {
		t.Errorf("%s: %v; want one of %v saying %q", what, err, want, reason)
	}
}

// Backups forged by someone who can write to the bucket and knows the public recipient —
// unsigned, signed with their own key, a genuine manifest copied from another app's prefix, a
// genuine manifest edited — are not listed, restored, verified, drilled, picked for a
// rollback or counted by prune, and nothing on disk changes.
func TestForgedBackupsAreRefused(t *testing.T) {
	s3 := startS3(t)
	ctx := testCtx(t, 3*time.Minute)
	sc := newScene(t)
	cfg, ids := testConfig(t, s3, Source{Name: "data", Kind: KindDir, Path: sc.data})
	cfg.Retention = Retention{Last: 1}
	c := newClient(t, cfg)
	real, err := c.Now(ctx, NowOptions{Release: "r1"})
	must(t, err)
	f := newForger(t, cfg)
	attackerPriv, _ := newSigningKey(t)
	attacker, err := ParseSigningKey(attackerPriv)
	must(t, err)

	// Another app's genuine backup (same signing key, its own prefix), copied over.
	other := cfg
	other.Destination = cfg.Destination + "-other-app"
	om, err := newClient(t, other).Now(ctx, NowOptions{Release: "r1"})
	must(t, err)
	of := newForger(t, other)
	for _, k := range []string{of.lay.manifest(om.ID), of.lay.object(om.ID, om.Sources[0].Object)} {
		rc, _, err := of.store.Open(ctx, k)
		must(t, err)
		b, _ := io.ReadAll(rc)
		rc.Close()
		must(t, f.store.Put(ctx, f.lay.join(strings.TrimPrefix(k, of.lay.root())), b))
	}

	forged := map[string]string{} // ID → the reason its refusal must give
	unsigned := "20991231T000000Z-0001"
	rec := f.object(ctx, unsigned, Source{Name: "data", Kind: KindDir, Path: sc.victim}, pwnTree(t))
	f.manifest(ctx, &Manifest{ID: unsigned, Release: "r1", Sources: []SourceRecord{rec}}, nil)
	forged[unsigned] = "has no signature"
	wrongKey := "20991230T000000Z-0002"
	rec = f.object(ctx, wrongKey, Source{Name: "data", Kind: KindDir, Path: sc.victim}, pwnTree(t))
	f.manifest(ctx, &Manifest{ID: wrongKey, Release: "r1", Sources: []SourceRecord{rec}}, &attacker)
	forged[wrongKey] = "not among the pinned"
	forged[om.ID] = "copied from another destination"
	// The real backup's manifest, edited to restore into the victim folder, under a new ID.
	edited := "20991229T000000Z-0003"
	raw, err := c.readSmall(ctx, c.lay.manifest(real.ID))
	must(t, err)
	raw = bytes.ReplaceAll(raw, []byte(real.ID), []byte(edited))
	raw = bytes.ReplaceAll(raw, []byte(strings.Replace(real.Created.Format(idTime), "Z", "", 1)), []byte("20991229T000000"))
	must(t, f.store.Put(ctx, f.lay.manifest(edited), raw))
	forged[edited] = "does not match the manifest"

	before := sc.state(t)
	check := func(when string) {
		t.Helper()
		l, err := c.List(ctx)
		must(t, err)
		if len(l.Backups) != 1 || l.Backups[0].ID != real.ID || l.Backups[0].SignedBy == "" {
			t.Errorf("%s: listed %d backups, want only the real one %s", when, len(l.Backups), real.ID)
		}
		reasons := map[string]string{}
		for _, r := range l.Rejected {
			reasons[r.ID] = r.Reason
		}
		for id, reason := range forged {
			if !strings.Contains(reasons[id], reason) {
				t.Errorf("%s: list rejects %s with %q; want the reason %q", when, id, reasons[id], reason)
			}
		}
		if m, ok := l.ForRelease("r1"); !ok || m.ID != real.ID {
			t.Errorf("%s: rollback --with-data would pick %v, want the real backup %s", when, m, real.ID)
		}
		for id, reason := range forged {
			_, err := c.Restore(ctx, id, RestoreOptions{Identities: ids})
			refused(t, "restore in place of "+id, err, reason, ErrUnsigned, ErrBadSignature)
			_, err = c.Restore(ctx, id, RestoreOptions{Identities: ids, To: filepath.Join(sc.scratch, "to")})
			refused(t, "restore --to of "+id, err, reason, ErrUnsigned, ErrBadSignature)
			_, err = c.Verify(ctx, id, ids)
			refused(t, "verify of "+id, err, reason, ErrUnsigned, ErrBadSignature)
			_, err = c.Drill(ctx, id, DrillOptions{Identities: ids, Scratch: sc.scratch})
			refused(t, "drill of "+id, err, reason, ErrUnsigned, ErrBadSignature)
		}
		diffStates(t, before, sc.state(t))
	}
	check("with the real latest pointer")

	// The latest pointer, overwritten: unsigned, then signed by the attacker.
	for _, tc := range []struct {
		key    *SigningKey
		reason string
	}{{nil, "has no signature"}, {&attacker, "not among the pinned"}} {
		f.latest(ctx, unsigned, tc.key)
		_, err := c.Restore(ctx, "latest", RestoreOptions{Identities: ids})
		refused(t, "restore latest", err, tc.reason, ErrUnsigned, ErrBadSignature)
		_, err = c.Drill(ctx, "latest", DrillOptions{Identities: ids, Scratch: sc.scratch})
		refused(t, "drill latest", err, tc.reason, ErrUnsigned, ErrBadSignature)
		l, err := c.List(ctx)
		must(t, err)
		if l.Latest != "" || !strings.Contains(l.LatestProblem, tc.reason) {
			t.Errorf("list: latest %q, problem %q; want none, with the reason %q", l.Latest, l.LatestProblem, tc.reason)
		}
		check("with a forged latest pointer")
	}

	// Prune with keep_last = 1: the forged backups are all "newer", yet the real one stays,
	// and prune deletes nothing it did not sign for.
	res, err := c.Prune(ctx, cfg.Retention, time.UTC, false)
	must(t, err)
	if len(res.Deleted) != 0 || len(res.Decisions) != 1 || !res.Decisions[0].Keep {
		t.Fatalf("prune decided %+v and deleted %v; want only the real backup, kept", res.Decisions, res.Deleted)
	}
	if _, err := c.Verify(ctx, real.ID, ids); err != nil {
		t.Fatalf("the real backup after prune: %v", err)
	}
	check("after prune")
}

// Even a backup whose manifest is accepted — an unsigned one read with AllowUnsigned, or one
// signed with the real key (a stolen key, a bug) — never chooses a local path: in-place
// targets are the configured sources, names and object keys have strict forms.
func TestManifestsNeverChooseLocalPaths(t *testing.T) {
	ctx, sc, cfg, ids, key, f := signedScene(t)
	victimState := func() map[string]string {
		st := sc.state(t)
		for k := range st {
			if strings.HasPrefix(k, "app") || strings.HasPrefix(k, "scratch") {
				delete(st, k)
			}
		}
		return st
	}
	before := victimState()

	// In place, a folder source goes to the configured folder, whatever origin says.
	id := "20261201T000000Z-0001"
	dirRec := f.object(ctx, id, Source{Name: "data", Kind: KindDir, Path: sc.victim}, pwnTree(t))
	dbRec := f.object(ctx, id, Source{Name: "app", Kind: KindSQLite, Path: sc.victimDB}, []byte("restored database bytes"))
	f.manifest(ctx, &Manifest{ID: id, Sources: []SourceRecord{dirRec, dbRec}}, &key)
	c := newClient(t, cfg)
	res, err := c.Restore(ctx, id, RestoreOptions{Identities: ids})
	must(t, err)
	if res.Targets["data"] != sc.data || res.Targets["app"] != sc.db {
		t.Errorf("restored to %v; want the configured %s and %s", res.Targets, sc.data, sc.db)
	}
	if b, _ := os.ReadFile(filepath.Join(sc.data, "keep.txt")); string(b) != "pwned\n" {
		t.Errorf("the configured folder did not receive the backup: %q", b)
	}
	if fi, err := os.Stat(filepath.Join(sc.data, "keep.txt")); err != nil || fi.Mode().Perm() != 0o777 || fi.Mode()&os.ModeSetuid != 0 {
		t.Errorf("restored file mode %v, %v: want 0777 with setuid dropped", fi.Mode(), err)
	}
	diffStates(t, before, victimState())

	// Forms no pyship writes are refused, naming what is wrong, before anything is written.
	cases := []struct {
		name   string
		rec    SourceRecord
		opts   RestoreOptions
		reason string
	}{
		{"source name with ../", SourceRecord{Name: "../victim", Kind: KindDir}, RestoreOptions{To: sc.scratch, Force: true}, "source name"},
		{"object of another app", SourceRecord{Name: "data", Kind: KindDir, Object: "../../other-app/20261125T091400Z-3f9a/data.tar.zst.age"}, RestoreOptions{}, "names object"},
		{"unknown kind", SourceRecord{Name: "data", Kind: "exec"}, RestoreOptions{}, "has kind"},
		{"source not configured", SourceRecord{Name: "elsewhere", Kind: KindDir}, RestoreOptions{}, "is not configured here"},
		{"configured name, other kind", SourceRecord{Name: "app", Kind: KindDir}, RestoreOptions{}, "is not configured here"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("20261202T00000%dZ-00%02x", i, i)
			rec := f.object(ctx, id, Source{Name: "data", Kind: KindDir, Path: sc.victim}, pwnTree(t))
			rec.Name, rec.Kind = tc.rec.Name, tc.rec.Kind
			if tc.rec.Object != "" {
				rec.Object = tc.rec.Object
			} else if validName(rec.Name) && (rec.Kind == KindDir || rec.Kind == KindSQLite) {
				rec.Object = objectName(Source{Name: rec.Name, Kind: rec.Kind})
			}
			f.manifest(ctx, &Manifest{ID: id, Sources: []SourceRecord{rec}}, &key)
			all := sc.state(t)
			tc.opts.Identities = ids
			_, err := c.Restore(ctx, id, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("restore: %v; want a refusal saying %q", err, tc.reason)
			}
			_, err = c.Drill(ctx, id, DrillOptions{Identities: ids, Scratch: sc.scratch})
			if tc.reason != "is not configured here" && (err == nil || !strings.Contains(err.Error(), tc.reason)) {
				t.Fatalf("drill: %v; want a refusal saying %q", err, tc.reason)
			}
			if tc.reason == "is not configured here" {
				must(t, os.RemoveAll(filepath.Join(sc.scratch, rec.Name))) // a drill restores any source into scratch
			}
			diffStates(t, all, sc.state(t))
		})
	}

	// Backup IDs have exactly the form pyship makes: no path can be built from one.
	for _, bad := range []string{"20261125T091400Z-a/..", "20261125T091400Z-../", "20261125T091400Z-3F9A", "2026112ET091400Z-3f9a",
		"20261125T091400Z-3f9a/", "../20261125T091400Z-3f9a", "20261125T091400Z-3f9a0"} {
		if validID(bad) {
			t.Errorf("validID(%q) = true", bad)
		}
		if _, err := c.Restore(ctx, bad, RestoreOptions{Identities: ids}); err == nil || !strings.Contains(err.Error(), "backup ID") {
			t.Errorf("restore %q: %v; want the ID refused", bad, err)
		}
	}
	if !validID("20261125T091400Z-3f9a") {
		t.Error("a valid ID is refused")
	}
	diffStates(t, before, victimState())
}

// Legacy backups (format 1, unsigned: every backup before this version) are refused with a
// message that says how to read them, read with AllowUnsigned, and never pruned.
func TestUnsignedLegacyBackups(t *testing.T) {
	s3 := startS3(t)
	ctx := testCtx(t, 2*time.Minute)
	sc := newScene(t)
	cfg, ids := testConfig(t, s3, Source{Name: "data", Kind: KindDir, Path: sc.data})
	f := newForger(t, cfg)
	var legacy []string
	for i := range 3 {
		id := fmt.Sprintf("20250101T00000%dZ-000%d", i, i)
		rec := f.object(ctx, id, Source{Name: "data", Kind: KindDir, Path: sc.victim}, craftTar(t, entry{name: "./", typ: tarDir, mode: 0o755}, entry{name: "old.txt", typ: tarReg, body: "old\n"}))
		f.manifest(ctx, &Manifest{ID: id, Sources: []SourceRecord{rec}}, nil)
		legacy = append(legacy, id)
	}
	f.latest(ctx, legacy[2], nil)
	c := newClient(t, cfg)
	_, err := c.Restore(ctx, "latest", RestoreOptions{Identities: ids, To: filepath.Join(sc.scratch, "x")})
	refused(t, "restore of a legacy latest", err, "--allow-unsigned", ErrUnsigned)

	cfg.AllowUnsigned = true
	c = newClient(t, cfg)
	l, err := c.List(ctx)
	must(t, err)
	if len(l.Backups) != 3 || l.Latest != legacy[2] || l.Backups[0].SignedBy != "" {
		t.Fatalf("list with AllowUnsigned: %d backups, latest %q", len(l.Backups), l.Latest)
	}
	to := filepath.Join(sc.scratch, "restored")
	if _, err := c.Restore(ctx, "latest", RestoreOptions{Identities: ids, To: to}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(to, "old.txt")); string(b) != "old\n" {
		t.Fatalf("restored %q", b)
	}
	res, err := c.Prune(ctx, Retention{Last: 1}, time.UTC, false)
	must(t, err)
	if len(res.Deleted)+len(res.Decisions)+len(res.Incomplete) != 0 {
		t.Fatalf("prune touched unsigned backups: %+v", res)
	}

	// Adopting checks every object, then signs: the backup counts without AllowUnsigned.
	cfg.AllowUnsigned = false
	c = newClient(t, cfg)
	m, err := c.Adopt(ctx, legacy[1], ids)
	must(t, err)
	if m.SignedBy == "" || m.Format != ManifestFormat {
		t.Fatalf("adopted manifest %+v", m)
	}
	l, err = c.List(ctx)
	must(t, err)
	if len(l.Backups) != 1 || l.Backups[0].ID != legacy[1] || l.Backups[0].SignedBy != cfg.SigningPublicKeys[0] || len(l.Rejected) != 2 {
		t.Fatalf("after adopting %s: backups %d, rejected %d", legacy[1], len(l.Backups), len(l.Rejected))
	}
	if _, err := c.Adopt(ctx, legacy[1], ids); err == nil || !strings.Contains(err.Error(), "already signed") {
		t.Fatalf("adopting twice: %v", err)
	}
	// A legacy backup whose object does not match its manifest is not adopted.
	must(t, f.store.Put(ctx, f.lay.object(legacy[2], "data.tar.zst.age"), []byte("not what the manifest says")))
	if _, err := c.Adopt(ctx, legacy[2], ids); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("adopting a damaged backup: %v; want ErrCorrupt", err)
	}
	if l, _ := c.List(ctx); len(l.Backups) != 1 {
		t.Fatalf("a refused adoption signed something: %d backups", len(l.Backups))
	}
}

// A signed archive that still tries to escape (a stolen key, a bug) is refused while it is
// extracted into the private staging folder: the target keeps its data, nothing outside
// changes, and verify says why too. A decompression bomb stops at the manifest's plainSize.
func TestSignedButHostileArchives(t *testing.T) {
	ctx, sc, cfg, ids, key, f := signedScene(t)
	c := newClient(t, cfg)
	for i, tc := range escapes() {
		id := fmt.Sprintf("20261203T0000%02dZ-%04x", i, i)
		rec := f.object(ctx, id, Source{Name: "data", Kind: KindDir}, craftTar(t, tc.entries...))
		f.manifest(ctx, &Manifest{ID: id, Sources: []SourceRecord{rec}}, &key)
		before := sc.state(t)
		_, err := c.Restore(ctx, id, RestoreOptions{Identities: ids})
		refused(t, tc.name+": restore in place", err, tc.reason, ErrCorrupt)
		_, err = c.Drill(ctx, id, DrillOptions{Identities: ids, Scratch: sc.scratch})
		refused(t, tc.name+": drill", err, tc.reason, ErrCorrupt)
		_, err = c.Verify(ctx, id, ids)
		refused(t, tc.name+": verify", err, tc.reason, ErrCorrupt)
		diffStates(t, before, sc.state(t))
	}

	// The zstd bomb: a few hundred KB that expand to 4 GiB, under a manifest that says 1 MiB.
	frame, err := zstd.NewWriter(nil)
	must(t, err)
	one := frame.EncodeAll(make([]byte, 8<<20), nil)
	bomb := bytes.Repeat(one, 512) // 4 GiB of zeros
	rs, err := ParseRecipients(cfg.Recipients)
	must(t, err)
	var enc bytes.Buffer
	w, err := age.Encrypt(&enc, rs...)
	must(t, err)
	_, err = w.Write(bomb)
	must(t, err)
	must(t, w.Close())
	id := "20261204T000000Z-b0b0"
	rec := SourceRecord{Name: "app", Kind: KindSQLite, Object: objectName(Source{Name: "app", Kind: KindSQLite}),
		PlainSize: 1 << 20, PlainSHA256: strings.Repeat("0", 64), CipherSize: int64(enc.Len())}
	rec.CipherSHA256 = fmt.Sprintf("%x", sha256sum(enc.Bytes()))
	must(t, f.store.Put(ctx, f.lay.object(id, rec.Object), enc.Bytes()))
	f.manifest(ctx, &Manifest{ID: id, Sources: []SourceRecord{rec}}, &key)
	before := sc.state(t)
	start := time.Now()
	_, err = c.Restore(ctx, id, RestoreOptions{Identities: ids})
	refused(t, "restore of a zstd bomb", err, "passes the 1048576 bytes the manifest gives it", ErrCorrupt)
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the bomb was read for %s before it was refused", d)
	}
	t.Logf("a %d KiB object that expands to 4 GiB, refused after %s: %v", enc.Len()>>10, time.Since(start).Round(time.Millisecond), err)
	diffStates(t, before, sc.state(t))
}

func sha256sum(b []byte) [32]byte { return sha256.Sum256(b) }

// A target that is a mount point (a Kubernetes volume) is staged inside itself and its
// entries swapped: a genuine backup replaces what it holds, a hostile one leaves it as it was,
// and nothing is left behind either way.
func TestRestoreInPlaceIntoAMountPoint(t *testing.T) {
	ctx, sc, cfg, ids, key, f := signedScene(t)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", sc.data).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", sc.data).Run() })
	if !isMountPoint(sc.data) {
		t.Fatal("the tmpfs is not seen as a mount point")
	}
	writeFile(t, filepath.Join(sc.data, "orders.txt"), []byte("real orders\n"), 0o644)
	writeFile(t, sc.db, []byte("db"), 0o644)
	cfg.Sources = cfg.Sources[:1]
	c := newClient(t, cfg)
	m, err := c.Now(ctx, NowOptions{})
	must(t, err)
	writeFile(t, filepath.Join(sc.data, "orders.txt"), []byte("changed\n"), 0o644)
	writeFile(t, filepath.Join(sc.data, "new.txt"), []byte("new\n"), 0o644)
	if _, err := c.Restore(ctx, m.ID, RestoreOptions{Identities: ids}); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(sc.data)
	if b, _ := os.ReadFile(filepath.Join(sc.data, "orders.txt")); string(b) != "real orders\n" || len(ents) != 1 || !isMountPoint(sc.data) {
		t.Fatalf("after the restore the volume holds %v (orders %q), mounted %v", ents, b, isMountPoint(sc.data))
	}

	id := "20261205T000000Z-0bad"
	rec := f.object(ctx, id, Source{Name: "data", Kind: KindDir}, craftTar(t, escapes()[2].entries...))
	f.manifest(ctx, &Manifest{ID: id, Sources: []SourceRecord{rec}}, &key)
	before := sc.state(t)
	_, err = c.Restore(ctx, id, RestoreOptions{Identities: ids})
	refused(t, "hostile restore into a volume", err, escapes()[2].reason, ErrCorrupt)
	diffStates(t, before, sc.state(t))
}

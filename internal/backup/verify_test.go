package backup

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// objectFile is where versitygw's posix backend keeps an object.
func objectFile(s s3env, cfg Config, key string) string {
	return filepath.Join(s.Data, s.Bucket, key)
}

func TestVerifyAndDamage(t *testing.T) {
	s := startS3(t)
	ctx := testCtx(t, 3*time.Minute)
	src := t.TempDir()
	for i := range 50 {
		writeFile(t, filepath.Join(src, "f", string(rune('a'+i%26))+strings.Repeat("x", i)), []byte(strings.Repeat("payload ", 5000+i)), 0o644)
	}
	cfg, ids := testConfig(t, s, Source{Name: "data", Kind: KindDir, Path: src})
	c := newClient(t, cfg)
	m, err := c.Now(ctx, NowOptions{})
	must(t, err)
	res, err := c.Verify(ctx, m.ID, ids)
	must(t, err)
	if res.Bytes != m.Sources[0].CipherSize || len(res.Sources) != 1 {
		t.Fatalf("verify result %+v does not cover the backup", res)
	}

	// Wrong key.
	other, _ := age.GenerateX25519Identity()
	if _, err := c.Verify(ctx, m.ID, []age.Identity{other}); !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), cfg.Recipients[0]) {
		t.Fatalf("verify with the wrong key: %v; want ErrWrongKey naming the recipient", err)
	}

	loc, _ := ParseDestination(cfg.Destination)
	obj := objectFile(s, cfg, loc.Prefix+"/"+m.ID+"/"+m.Sources[0].Object)
	orig, err := os.ReadFile(obj)
	must(t, err)
	restoreTo := filepath.Join(t.TempDir(), "r")
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"truncated", orig[:len(orig)*2/3]},
		{"last byte cut", orig[:len(orig)-1]},
		{"flipped byte", func() []byte { b := append([]byte(nil), orig...); b[len(b)/2] ^= 0x40; return b }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			must(t, os.WriteFile(obj, tc.data, 0o644))
			if _, err := c.Verify(ctx, m.ID, ids); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("verify: %v; want ErrCorrupt", err)
			}
			_, err := c.Restore(ctx, m.ID, RestoreOptions{To: restoreTo, Identities: ids})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("restore: %v; want ErrCorrupt", err)
			}
			if _, err := os.Lstat(restoreTo); !os.IsNotExist(err) {
				t.Fatalf("a failed restore left %s behind (%v)", restoreTo, err)
			}
			t.Logf("error: %v", err)
		})
	}
	must(t, os.WriteFile(obj, orig, 0o644))
	_, err = c.Verify(ctx, m.ID, ids)
	must(t, err)

	// Missing object.
	must(t, os.Remove(obj))
	if _, err := c.Verify(ctx, m.ID, ids); !errors.Is(err, ErrNotFound) {
		t.Fatalf("verify with the object gone: %v; want ErrNotFound", err)
	}
}

func TestDestinationErrors(t *testing.T) {
	s := startS3(t)
	ctx := testCtx(t, time.Minute)
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "a"), []byte("a"), 0o644)

	cfg, _ := testConfig(t, s, Source{Name: "data", Kind: KindDir, Path: src})
	cfg.Destination = "s3://no-such-bucket-" + randHex(t, 4) + "/x"
	_, err := newClient(t, cfg).Now(ctx, NowOptions{})
	if !errors.Is(err, ErrBucketMissing) || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Fatalf("missing bucket: %v; want ErrBucketMissing naming the bucket", err)
	}

	cfg, _ = testConfig(t, s, Source{Name: "data", Kind: KindDir, Path: src})
	cfg.Credentials.SecretKey = "wrong"
	_, err = newClient(t, cfg).Now(ctx, NowOptions{})
	if !errors.Is(err, ErrCredentials) || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
		t.Fatalf("bad credentials: %v; want ErrCredentials with a hint", err)
	}

	cfg, _ = testConfig(t, s, Source{Name: "data", Kind: KindDir, Path: src})
	cfg.Endpoint = "http://127.0.0.1:1"
	_, err = newClient(t, cfg).Now(ctx, NowOptions{})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("closed port: %v; want ErrUnreachable", err)
	}

	cfg, _ = testConfig(t, s, Source{Name: "data", Kind: KindDir, Path: src})
	cfg.Recipients = []string{"not-a-key"}
	if _, err = newClient(t, cfg).Now(ctx, NowOptions{}); err == nil || !strings.Contains(err.Error(), "not an age public key") {
		t.Fatalf("bad recipient: %v", err)
	}
}

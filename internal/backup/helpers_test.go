package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/pyship/pyship/internal/testsvc"
)

// s3env is the shared test S3 service.
type s3env struct {
	Endpoint, Access, Secret, Bucket, Data, Bin string
}

func startS3(t *testing.T) s3env {
	t.Helper()
	v := testsvc.Start(t, "s3")
	return s3env{Endpoint: v["PYSHIP_TEST_S3_ENDPOINT"], Access: v["PYSHIP_TEST_S3_ACCESS_KEY"],
		Secret: v["PYSHIP_TEST_S3_SECRET_KEY"], Bucket: v["PYSHIP_TEST_S3_BUCKET"], Data: v["PYSHIP_TEST_S3_DATA"],
		Bin: v["PYSHIP_TEST_S3_BIN"]}
}

func randHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// testConfig is a config with a fresh prefix, a fresh age key pair and a fresh signing key
// (pinned).
func testConfig(t *testing.T, s s3env, sources ...Source) (Config, []age.Identity) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	priv, pub := newSigningKey(t)
	cfg := Config{
		SigningKey:        priv,
		SigningPublicKeys: []string{pub},
		Destination:       "s3://" + s.Bucket + "/test-" + randHex(t, 6),
		Endpoint:          s.Endpoint,
		Credentials:       Credentials{AccessKey: s.Access, SecretKey: s.Secret},
		Recipients:        []string{id.Recipient().String()},
		Sources:           sources,
		Retention:         Retention{Last: 3},
	}
	return cfg, []age.Identity{id}
}

func newClient(t *testing.T, cfg Config, opts ...Option) *Client {
	t.Helper()
	c, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// writeFile writes a test file, failing the test on error.
func writeFile(t *testing.T, p string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// newSigningKey makes a signing key and returns its private and public halves as text.
func newSigningKey(t testing.TB) (string, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "signing.key")
	pub, err := GenerateSigningKey(file)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), pub
}

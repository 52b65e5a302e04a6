package gitops

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/pyship/pyship/internal/testsvc"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestSOPSDecryptsWithTheRealSops: a Secret hydrated with an age recipient is unreadable in
// the folder, and the real sops binary (built from github.com/getsops/sops/v3) decrypts it, with
// a matching identity, into the rendered Secret; an edited file fails sops's MAC check.
func TestSOPSDecryptsWithTheRealSops(t *testing.T) {
	bin := testsvc.Start(t, "sops")["PYSHIP_TEST_SOPS"]
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := age.GenerateX25519Identity()
	in := testInput(t, "1.0")
	in.AgeRecipients = []string{other.Recipient().String(), id.Recipient().String()}
	in.Now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	files, err := Hydrate(in)
	if err != nil {
		t.Fatal(err)
	}
	enc, ok := files["secret-web-secrets.sops.yaml"]
	if !ok {
		t.Fatalf("no encrypted Secret among %v", keys(files))
	}
	if strings.Contains(string(enc), "hunter2") || strings.Contains(string(enc), "aHVudGVyMg") {
		t.Fatal("the Secret's value is in the folder in plaintext (or base64)")
	}
	if !strings.Contains(string(files["kustomization.yaml"]), "- secret-web-secrets.sops.yaml") {
		t.Errorf("the kustomization does not list the encrypted Secret:\n%s", files["kustomization.yaml"])
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "secret.sops.yaml")
	if err := os.WriteFile(file, enc, 0o600); err != nil {
		t.Fatal(err)
	}
	decrypt := func(f string) ([]byte, string, error) {
		var out, errb bytes.Buffer
		cmd := exec.Command(bin, "decrypt", f)
		cmd.Env = append(os.Environ(), "SOPS_AGE_KEY="+id.String(), "HOME="+dir)
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.Bytes(), errb.String(), err
	}
	out, errs, err := decrypt(file)
	if err != nil {
		t.Fatalf("sops decrypt: %v\n%s", err, errs)
	}
	var got map[string]any
	if err := yaml.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	for _, o := range in.Bundle.Objects {
		if o.GetKind() == "Secret" {
			b, _ := yaml.Marshal(o.Object)
			_ = yaml.Unmarshal(b, &want)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sops decrypted\n%s\nwant the rendered Secret\n%v", out, want)
	}

	// An edit of a plaintext field breaks the MAC.
	tampered := filepath.Join(dir, "tampered.sops.yaml")
	if err := os.WriteFile(tampered, bytes.Replace(enc, []byte("name: web-secrets"), []byte("name: web-secretz"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errs, err := decrypt(tampered); err == nil || !strings.Contains(strings.ToLower(errs), "mac") {
		t.Errorf("sops decrypted a tampered file: %v\n%s", err, errs)
	}
	if _, err := SOPS(map[string]any{"data": map[string]any{"a": "b"}}, []string{"age1nope"}, in.Now, nil); err == nil {
		t.Error("a bad recipient was accepted")
	}
}

// TestPushKeepsAnUnchangedEncryptedSecret: with an identity that decrypts the folder's
// encrypted Secret, pushing the same input again commits nothing (the old ciphertext is kept);
// a changed secret value is committed, re-encrypted. Without the identity each push re-encrypts.
func TestPushKeepsAnUnchangedEncryptedSecret(t *testing.T) {
	s := newRepo(t, true)
	ctx := context.Background()
	id, _ := age.GenerateX25519Identity()
	input := func(token string, ids bool) Input {
		in := testInput(t, "1.0")
		in.AgeRecipients = []string{id.Recipient().String()}
		if ids {
			in.AgeIdentities = []age.Identity{id}
		}
		in.Now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		for _, o := range in.Bundle.Objects {
			if o.GetKind() == "Secret" {
				_ = unstructured.SetNestedField(o.Object, base64.StdEncoding.EncodeToString([]byte(token)), "data", "TOKEN")
			}
		}
		return in
	}
	push := func(in Input) *Result {
		t.Helper()
		res, _, err := PushEnv(ctx, s.target(""), "", in)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := push(input("hunter2", true)); res.Commit == "" {
		t.Fatal("the first push committed nothing")
	}
	first, _ := s.read(t, "main", "apps/web/staging/secret-web-secrets.sops.yaml")
	if res := push(input("hunter2", true)); res.Commit != "" {
		t.Errorf("the same input with the identity committed %s", res.Commit)
	}
	if res := push(input("hunter2", false)); res.Commit == "" {
		t.Error("without the identity the re-encrypted Secret was not committed (the test proves nothing)")
	}
	before, _ := s.read(t, "main", "apps/web/staging/secret-web-secrets.sops.yaml")
	if before == first {
		t.Error("the ciphertext did not change without the identity")
	}
	if res := push(input("changed", true)); res.Commit == "" {
		t.Error("a changed secret value was not committed")
	}
	after, _ := s.read(t, "main", "apps/web/staging/secret-web-secrets.sops.yaml")
	changed := input("changed", true)
	for _, o := range changed.Bundle.Objects {
		if o.GetKind() == "Secret" && !SOPSEqual([]byte(after), o.Object, changed.AgeRecipients, changed.AgeIdentities) {
			t.Error("the committed Secret does not hold the changed value")
		}
	}
}

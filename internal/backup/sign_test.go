package backup

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignAndVerify(t *testing.T) {
	priv, pub := newSigningKey(t)
	key, err := ParseSigningKey(priv)
	must(t, err)
	if key.PublicKey() != pub {
		t.Fatalf("public key %s, keygen printed %s", key.PublicKey(), pub)
	}
	body := []byte(`{"format":2,"id":"20261125T091400Z-3f9a"}`)
	stored, err := seal(key, docManifest, "shop", body)
	must(t, err)
	p, err := ParsePublicKey(pub)
	must(t, err)
	v := verifier{keys: []ed25519.PublicKey{p}, prefix: "shop"}
	got, signer, err := v.open(docManifest, stored)
	if err != nil || string(got) != string(body) || signer != pub {
		t.Fatalf("open: %q by %s, %v", got, signer, err)
	}
	for _, tc := range []struct {
		name   string
		v      verifier
		kind   string
		stored []byte
		want   error
		reason string
	}{
		{"other prefix", verifier{keys: v.keys, prefix: "other-app"}, docManifest, stored, ErrBadSignature, "another destination"},
		{"as a latest pointer", v, docLatest, stored, ErrBadSignature, "holds no latest"},
		{"no pinned key", verifier{prefix: "shop"}, docManifest, stored, ErrBadSignature, "no signing public key is pinned"},
		{"edited", v, docManifest, []byte(strings.Replace(string(stored), "3f9a", "3f9b", 1)), ErrBadSignature, "does not match"},
		{"unsigned", v, docManifest, body, ErrUnsigned, "no signature"},
	} {
		if _, _, err := tc.v.open(tc.kind, tc.stored); !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: %v; want %v saying %q", tc.name, err, tc.want, tc.reason)
		}
	}
	if _, err := ParsePublicKey(priv); err == nil || !strings.Contains(err.Error(), "private half") {
		t.Errorf("a private key as a public one: %v", err)
	}
	cfg := Config{SigningKey: priv, SigningPublicKeys: []string{encodePublicKey(make([]byte, 32))}}
	if _, err := cfg.signer(); err == nil || !strings.Contains(err.Error(), "not among [backup] signing_public_keys") {
		t.Errorf("a signing key whose public half is not pinned: %v", err)
	}
}

// BenchmarkSignManifest is the whole cost signing adds to a backup: one Ed25519 signature of
// its manifest and one of the latest pointer.
func BenchmarkSignManifest(b *testing.B) {
	priv, _ := newSigningKey(b)
	key, err := ParseSigningKey(priv)
	if err != nil {
		b.Fatal(err)
	}
	m := &Manifest{Format: ManifestFormat, ID: "20261125T091400Z-3f9a", Created: time.Now(), Recipients: []string{"age1x"}}
	for i := range 8 {
		m.Sources = append(m.Sources, SourceRecord{Name: "s" + string(rune('a'+i)), Kind: KindDir, Object: "x", PlainSHA256: strings.Repeat("a", 64), CipherSHA256: strings.Repeat("b", 64)})
	}
	body, _ := json.Marshal(m)
	for b.Loop() {
		if _, err := seal(key, docManifest, "shop", body); err != nil {
			b.Fatal(err)
		}
		if _, err := seal(key, docLatest, "shop", []byte(`{"id":"20261125T091400Z-3f9a"}`)); err != nil {
			b.Fatal(err)
		}
	}
}

package backup

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Backups are signed with Ed25519 by whoever takes them: the manifest (which holds the size and
// SHA-256 of every object) and the latest pointer. The private key never goes to the bucket;
// readers pin the public halves ([backup] signing_public_keys). Age recipients are public, so
// encryption alone says nothing about who made a backup: the signature does.
const (
	publicKeyPrefix  = "pyship-sign-ed25519:"
	privateKeyPrefix = "PYSHIP-SIGN-ED25519-SECRET:"
)

// Errors of backups whose origin cannot be established.
var (
	// ErrUnsigned is a manifest or latest pointer without a signature (taken by a pyship
	// before signed backups, or written by someone else).
	ErrUnsigned = errors.New("backup is not signed")
	// ErrBadSignature is a signature that does not verify with any pinned public key.
	ErrBadSignature = errors.New("backup signature is not valid")
)

// SigningKey signs manifests and latest pointers.
type SigningKey struct {
	priv ed25519.PrivateKey
}

// PublicKey is the key's public half in the form [backup] signing_public_keys takes.
func (k SigningKey) PublicKey() string { return encodePublicKey(k.priv.Public().(ed25519.PublicKey)) }

func encodePublicKey(p ed25519.PublicKey) string {
	return publicKeyPrefix + base64.RawURLEncoding.EncodeToString(p)
}

// ParseSigningKey parses the private half of a signing key (PYSHIP-SIGN-ED25519-SECRET:...),
// the text `pyship backup keygen --signing-key-file` writes (comment lines are skipped).
func ParseSigningKey(text string) (SigningKey, error) {
	var line string
	for l := range strings.SplitSeq(text, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			line = l
			break
		}
	}
	enc, ok := strings.CutPrefix(line, privateKeyPrefix)
	if !ok {
		return SigningKey{}, fmt.Errorf("backup signing key: want %s... (made by `pyship backup keygen --signing-key-file FILE`)", privateKeyPrefix)
	}
	seed, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(seed) != ed25519.SeedSize {
		return SigningKey{}, fmt.Errorf("backup signing key: %s is followed by %d bytes, want %d in unpadded base64url", privateKeyPrefix, len(seed), ed25519.SeedSize)
	}
	return SigningKey{priv: ed25519.NewKeyFromSeed(seed)}, nil
}

// ReadSigningKey reads the private half of a signing key from file.
func ReadSigningKey(file string) (SigningKey, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return SigningKey{}, fmt.Errorf("reading the backup signing key: %w", err)
	}
	k, err := ParseSigningKey(string(b))
	if err != nil {
		return k, fmt.Errorf("%s: %w", file, err)
	}
	return k, nil
}

// ParsePublicKey parses the public half of a signing key (pyship-sign-ed25519:...).
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, privateKeyPrefix) { // never echoed
		return nil, fmt.Errorf("backup signing public key: this is the private half (%s...): keep it out of the spec, and pin the public half %s... that `pyship backup keygen` printed", privateKeyPrefix, publicKeyPrefix)
	}
	enc, ok := strings.CutPrefix(s, publicKeyPrefix)
	if !ok {
		return nil, fmt.Errorf("backup signing public key %q: want %s... (printed by `pyship backup keygen --signing-key-file FILE`)", s, publicKeyPrefix)
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("backup signing public key %q: want %d bytes in unpadded base64url after %s", s, ed25519.PublicKeySize, publicKeyPrefix)
	}
	return ed25519.PublicKey(b), nil
}

// ParsePublicKeys parses the pinned public keys.
func ParsePublicKeys(keys []string) ([]ed25519.PublicKey, error) {
	var out []ed25519.PublicKey
	for _, k := range keys {
		p, err := ParsePublicKey(k)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// GenerateSigningKey writes a new signing key to file (mode 0600, atomically, never over an
// existing file) and returns its public half, to pin in [backup] signing_public_keys.
func GenerateSigningKey(file string) (string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	k := SigningKey{priv: priv}
	content := fmt.Sprintf("# pyship backup signing key (private: give it to whatever takes backups, never to the bucket)\n# created: %s\n# public key: %s\n%s%s\n",
		time.Now().UTC().Format(time.RFC3339), k.PublicKey(), privateKeyPrefix, base64.RawURLEncoding.EncodeToString(priv.Seed()))
	if err := writeKeyFile(file, content); err != nil {
		return "", err
	}
	return k.PublicKey(), nil
}

// envelope is how a signed document is stored: the document's exact bytes and a signature
// over them, bound to what the document is and to the destination's prefix (so a signed
// document copied from another app's prefix does not verify).
type envelope struct {
	Format    int             `json:"format"`
	Manifest  json.RawMessage `json:"manifest,omitempty"`
	Latest    json.RawMessage `json:"latest,omitempty"`
	Signature *signature      `json:"signature,omitempty"`
}

type signature struct {
	Key string `json:"key"`
	Sig string `json:"sig"`
}

// The kinds of signed document.
const (
	docManifest = "manifest"
	docLatest   = "latest"
)

func signedMessage(kind, prefix string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "pyship-backup-%s-v1\x00%s\x00", kind, prefix)
	b.Write(body)
	return b.Bytes()
}

// seal signs body (JSON) as a document of kind under prefix and returns the stored bytes.
// The body is stored compact, byte for byte as signed.
func seal(k SigningKey, kind, prefix string, doc []byte) ([]byte, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, doc); err != nil {
		return nil, err
	}
	body := compact.Bytes()
	env := envelope{Format: ManifestFormat, Signature: &signature{
		Key: k.PublicKey(),
		Sig: base64.StdEncoding.EncodeToString(ed25519.Sign(k.priv, signedMessage(kind, prefix, body))),
	}}
	switch kind {
	case docManifest:
		env.Manifest = body
	case docLatest:
		env.Latest = body
	}
	return json.Marshal(env)
}

// verifier checks envelopes against the pinned public keys.
type verifier struct {
	keys   []ed25519.PublicKey
	prefix string
}

// open checks the signature of a stored document of kind and returns the signed bytes and the
// public key that signed them. A document without an envelope is ErrUnsigned (the caller may
// read it as a legacy document when the user allows that).
func (v verifier) open(kind string, stored []byte) ([]byte, string, error) {
	var env envelope
	if err := json.Unmarshal(stored, &env); err != nil || env.Signature == nil {
		return nil, "", fmt.Errorf("%w: it has no signature", ErrUnsigned)
	}
	body := env.Manifest
	if kind == docLatest {
		body = env.Latest
	}
	if len(body) == 0 {
		return nil, "", fmt.Errorf("%w: the signed envelope holds no %s", ErrBadSignature, kind)
	}
	if len(v.keys) == 0 {
		return nil, "", fmt.Errorf("%w: no signing public key is pinned: set [backup] signing_public_keys (or --signing-public-key) to the key `pyship backup keygen` printed", ErrBadSignature)
	}
	pub, err := ParsePublicKey(env.Signature.Key)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	pinned := false
	for _, k := range v.keys {
		pinned = pinned || k.Equal(pub)
	}
	if !pinned {
		return nil, "", fmt.Errorf("%w: signed by %s, which is not among the pinned signing_public_keys", ErrBadSignature, env.Signature.Key)
	}
	sig, err := base64.StdEncoding.DecodeString(env.Signature.Sig)
	if err != nil || !ed25519.Verify(pub, signedMessage(kind, v.prefix, body), sig) {
		return nil, "", fmt.Errorf("%w: the signature by %s does not match the %s (modified, or copied from another destination)", ErrBadSignature, env.Signature.Key, kind)
	}
	return body, env.Signature.Key, nil
}

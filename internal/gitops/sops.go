package gitops

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"sigs.k8s.io/yaml"
)

// The SOPS format (github.com/getsops/sops, v3), written here with filippo.io/age and the
// standard library: sops's own Go module would bring every cloud KMS SDK into pyship's build.
// Tests decrypt the output with the real sops binary.
const (
	sopsVersion        = "3.13.3"
	sopsEncryptedRegex = "^(data|stringData)$"
	sopsNonceSize      = 32
)

var sopsEncrypted = regexp.MustCompile(sopsEncryptedRegex)

// SOPS encrypts the object as a SOPS YAML document, as `sops encrypt --age RECIPIENTS
// --encrypted-regex '^(data|stringData)$'` does: every value below data or stringData is
// encrypted with AES256-GCM under a fresh data key, which is age-encrypted to each recipient
// (Flux's kustomize-controller decrypts it with the matching identity), and the values are
// sealed with a MAC. rnd supplies the data key and nonces (crypto/rand when nil).
func SOPS(obj map[string]any, recipients []string, now time.Time, rnd io.Reader) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, fmt.Errorf("encrypting with SOPS: no age recipient")
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(rnd, key); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, sopsNonceSize)
	if err != nil {
		return nil, err
	}
	enc := func(plain, typ, aad string) (string, error) {
		iv := make([]byte, sopsNonceSize)
		if _, err := io.ReadFull(rnd, iv); err != nil {
			return "", err
		}
		out := gcm.Seal(nil, iv, []byte(plain), []byte(aad))
		n := len(out) - gcm.Overhead()
		return fmt.Sprintf("ENC[AES256_GCM,data:%s,iv:%s,tag:%s,type:%s]",
			base64.StdEncoding.EncodeToString(out[:n]), base64.StdEncoding.EncodeToString(iv),
			base64.StdEncoding.EncodeToString(out[n:]), typ), nil
	}
	// sops walks the document in file order, which is sorted-key order here (the YAML is
	// written with sorted keys), hashing every value and encrypting those on an encrypted path.
	mac := sha512.New()
	var walk func(v any, path []string) (any, error)
	walk = func(v any, path []string) (any, error) {
		switch t := v.(type) {
		case map[string]any:
			out := make(map[string]any, len(t))
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				w, err := walk(t[k], append(append([]string(nil), path...), k))
				if err != nil {
					return nil, err
				}
				out[k] = w
			}
			return out, nil
		case []any:
			out := make([]any, len(t))
			for i, e := range t {
				w, err := walk(e, path)
				if err != nil {
					return nil, err
				}
				out[i] = w
			}
			return out, nil
		case string:
			mac.Write([]byte(t))
			if t == "" || !onEncryptedPath(path) {
				return t, nil
			}
			return enc(t, "str", strings.Join(path, ":")+":")
		case bool:
			s := "False"
			if t {
				s = "True"
			}
			mac.Write([]byte(s))
			if !onEncryptedPath(path) {
				return t, nil
			}
			return enc(s, "bool", strings.Join(path, ":")+":")
		case nil:
			return nil, nil
		}
		return nil, fmt.Errorf("encrypting with SOPS: the value at %s is a %T; only strings and booleans are supported", strings.Join(path, "."), v)
	}
	if _, ok := obj["sops"]; ok {
		return nil, fmt.Errorf("encrypting with SOPS: the object already has a sops key")
	}
	tree, err := walk(obj, nil)
	if err != nil {
		return nil, err
	}
	doc := tree.(map[string]any)
	lastModified := now.UTC().Format(time.RFC3339)
	encMAC, err := enc(fmt.Sprintf("%X", mac.Sum(nil)), "str", lastModified)
	if err != nil {
		return nil, err
	}
	var keys []any
	for _, r := range recipients {
		rec, err := age.ParseX25519Recipient(r)
		if err != nil {
			return nil, fmt.Errorf("age recipient %q: %w (give an age1... public key)", r, err)
		}
		var buf bytes.Buffer
		aw := armor.NewWriter(&buf)
		w, err := age.Encrypt(aw, rec)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(key); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		if err := aw.Close(); err != nil {
			return nil, err
		}
		keys = append(keys, map[string]any{"recipient": r, "enc": buf.String()})
	}
	doc["sops"] = map[string]any{
		"age":             keys,
		"encrypted_regex": sopsEncryptedRegex,
		"lastmodified":    lastModified,
		"mac":             encMAC,
		"version":         sopsVersion,
	}
	return yaml.Marshal(doc)
}

func onEncryptedPath(path []string) bool {
	for _, p := range path {
		if sopsEncrypted.MatchString(p) {
			return true
		}
	}
	return false
}

var encValue = regexp.MustCompile(`^ENC\[AES256_GCM,data:([^,]*),iv:([^,]+),tag:([^,]+),type:(str|bool)\]$`)

// SOPSEqual reports whether the SOPS document old, decrypted with one of identities, holds
// exactly obj and is encrypted to exactly recipients. It lets a push keep the bytes of an
// encrypted file whose content did not change (encryption is randomised). Any doubt is false.
func SOPSEqual(old []byte, obj map[string]any, recipients []string, identities []age.Identity) bool {
	if len(identities) == 0 {
		return false
	}
	var doc map[string]any
	if err := yaml.Unmarshal(old, &doc); err != nil {
		return false
	}
	meta, _ := doc["sops"].(map[string]any)
	delete(doc, "sops")
	stanzas, _ := meta["age"].([]any)
	var have []string
	var key []byte
	for _, s := range stanzas {
		m, _ := s.(map[string]any)
		r, _ := m["recipient"].(string)
		enc, _ := m["enc"].(string)
		have = append(have, r)
		if key != nil {
			continue
		}
		if rd, err := age.Decrypt(armor.NewReader(strings.NewReader(enc)), identities...); err == nil {
			key, _ = io.ReadAll(rd)
		}
	}
	want := append([]string(nil), recipients...)
	sort.Strings(have)
	sort.Strings(want)
	if len(key) != 32 || strings.Join(have, ",") != strings.Join(want, ",") {
		return false
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return false
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, sopsNonceSize)
	if err != nil {
		return false
	}
	ok := true
	var walk func(v any, path []string) any
	walk = func(v any, path []string) any {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				t[k] = walk(e, append(append([]string(nil), path...), k))
			}
		case []any:
			for i, e := range t {
				t[i] = walk(e, path)
			}
		case string:
			m := encValue.FindStringSubmatch(t)
			if m == nil || !onEncryptedPath(path) {
				return t
			}
			data, err1 := base64.StdEncoding.DecodeString(m[1])
			iv, err2 := base64.StdEncoding.DecodeString(m[2])
			tag, err3 := base64.StdEncoding.DecodeString(m[3])
			if err1 != nil || err2 != nil || err3 != nil || len(iv) != sopsNonceSize {
				ok = false
				return t
			}
			plain, err := gcm.Open(nil, iv, append(data, tag...), []byte(strings.Join(path, ":")+":"))
			if err != nil {
				ok = false
				return t
			}
			if m[4] == "bool" {
				return string(plain) == "True"
			}
			return string(plain)
		}
		return v
	}
	walk(doc, nil)
	b, err := yaml.Marshal(obj)
	if err != nil {
		return false
	}
	var fresh map[string]any
	if err := yaml.Unmarshal(b, &fresh); err != nil {
		return false
	}
	return ok && reflect.DeepEqual(doc, fresh)
}

// AgeIdentities reads the age identities sops itself would use, from the usual places:
// $SOPS_AGE_KEY, $SOPS_AGE_KEY_FILE, else $XDG_CONFIG_HOME/sops/age/keys.txt
// (~/.config/sops/age/keys.txt). None is not an error: they only let a push recognise an
// unchanged encrypted Secret.
func AgeIdentities(c Credentials) ([]age.Identity, error) {
	var text string
	switch {
	case c.env("SOPS_AGE_KEY") != "":
		text = c.env("SOPS_AGE_KEY")
	default:
		file := c.env("SOPS_AGE_KEY_FILE")
		if file == "" {
			xdg := c.env("XDG_CONFIG_HOME")
			if xdg == "" && c.Home != "" {
				xdg = filepath.Join(c.Home, ".config")
			}
			if xdg == "" {
				return nil, nil
			}
			file = filepath.Join(xdg, "sops", "age", "keys.txt")
		}
		b, err := os.ReadFile(file)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the age identities: %w", err)
		}
		text = string(b)
	}
	ids, err := age.ParseIdentities(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("reading the age identities ($SOPS_AGE_KEY, $SOPS_AGE_KEY_FILE or ~/.config/sops/age/keys.txt): %w", err)
	}
	return ids, nil
}

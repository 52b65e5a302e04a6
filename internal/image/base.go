package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Platform is the platform pyship builds for.
var Platform = v1.Platform{OS: "linux", Architecture: "amd64"}

// Base is a resolved base image.
type Base struct {
	// Ref is the reference as given; Digest is the image's manifest digest.
	Ref    string
	Digest v1.Hash
	Image  v1.Image
	Info   BaseInfo
}

// LoadBase resolves ref — a registry reference, "oci-layout:DIR[:REF]" or a tarball file — to
// an image. Registry images are pulled once into cacheDir/bases, keyed by digest.
func LoadBase(ctx context.Context, ref, cacheDir string, ropts ...remote.Option) (*Base, error) {
	img, err := openBase(ctx, ref, cacheDir, ropts)
	var re *RegistryError
	switch {
	case errors.As(err, &re) && (re.Kind == ErrUnreachable || re.Kind == ErrNotFound):
		// The advice for a registry to push to (--registry, pyship registry serve) is wrong
		// here: the base is pulled, and a reachable or local base is the fix.
		re.Hint = "set [build] base (or --base) to an image in a registry this machine can reach, or to a local one: oci-layout:DIR[:REF] or a tarball FILE"
		return nil, fmt.Errorf("loading the base image %s: %w", ref, err)
	case err != nil:
		return nil, fmt.Errorf("loading the base image %s: %w (set [build] base or --base)", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("loading the base image %s: %w", ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the config of the base image %s: %w", ref, err)
	}
	if cf.OS != "" && (cf.OS != Platform.OS || cf.Architecture != Platform.Architecture) {
		return nil, fmt.Errorf("the base image %s is %s/%s, not %s/%s", ref, cf.OS, cf.Architecture, Platform.OS, Platform.Architecture)
	}
	info, err := inspectCached(img, filepath.Join(cacheDir, "baseinfo", d.Hex+".json"))
	if err != nil {
		return nil, fmt.Errorf("inspecting the base image %s: %w", ref, err)
	}
	return &Base{Ref: ref, Digest: d, Image: img, Info: info}, nil
}

func openBase(ctx context.Context, ref, cacheDir string, ropts []remote.Option) (v1.Image, error) {
	if rest, ok := strings.CutPrefix(ref, "oci-layout:"); ok {
		return fromLayout(rest)
	}
	if fi, err := os.Stat(ref); err == nil && !fi.IsDir() {
		return tarball.ImageFromPath(ref, nil)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("not a file, an oci-layout:DIR or an image reference: %w", err)
	}
	opts := append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithPlatform(Platform)}, ropts...)
	cache := filepath.Join(cacheDir, "bases")
	if d, ok := r.(name.Digest); ok {
		if img, err := cachedBase(cache, d.DigestStr()); err == nil {
			return img, nil
		}
	}
	img, err := remote.Image(r, opts...)
	if err != nil {
		return nil, classify(r.Context().RegistryStr(), err)
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	if cached, err := cachedBase(cache, d.String()); err == nil {
		return cached, nil
	}
	p, err := layout.FromPath(cache)
	if err != nil {
		if p, err = layout.Write(cache, empty.Index); err != nil {
			return nil, err
		}
	}
	if err := p.AppendImage(img); err != nil {
		return nil, fmt.Errorf("caching into %s: %w", cache, err)
	}
	return cachedBase(cache, d.String())
}

func cachedBase(dir, digest string) (v1.Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, err
	}
	h, err := v1.NewHash(digest)
	if err != nil {
		return nil, err
	}
	return p.Image(h)
}

// fromLayout opens "DIR[:REF]": the image whose org.opencontainers.image.ref.name is REF, or
// the only image of the layout.
func fromLayout(s string) (v1.Image, error) {
	dir, want := s, ""
	if _, err := os.Stat(filepath.Join(s, "index.json")); err != nil {
		// DIR:REF, where REF may hold colons itself (name:tag).
		for i := 0; i < len(s); i++ {
			if s[i] != ':' {
				continue
			}
			if _, err := os.Stat(filepath.Join(s[:i], "index.json")); err == nil {
				dir, want = s[:i], s[i+1:]
				break
			}
		}
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("opening the OCI layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var found []v1.Descriptor
	for _, d := range m.Manifests {
		if !d.MediaType.IsImage() {
			continue
		}
		if want == "" || d.Annotations["org.opencontainers.image.ref.name"] == want {
			found = append(found, d)
		}
	}
	switch {
	case len(found) == 0 && want != "":
		return nil, fmt.Errorf("no image named %q in the OCI layout %s", want, dir)
	case len(found) == 0:
		return nil, fmt.Errorf("no image in the OCI layout %s", dir)
	case len(found) > 1:
		return nil, errors.New("the OCI layout " + dir + " holds several images: name one with oci-layout:DIR:REF")
	}
	return p.Image(found[0].Digest)
}

// Open reads any image pyship can name: a registry reference, "oci-layout:DIR[:REF]" or a
// tarball file. Registry images are cached in cacheDir/bases.
func Open(ctx context.Context, ref, cacheDir string, ropts ...remote.Option) (v1.Image, error) {
	img, err := openBase(ctx, ref, cacheDir, ropts)
	if err != nil {
		return nil, fmt.Errorf("opening the image %s: %w", ref, err)
	}
	return img, nil
}

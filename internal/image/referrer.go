package image

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// SBOMDigest finds the digest of the SPDX SBOM that `pyship build --push` attached to the image
// ref (REPO@sha256:...) as an OCI referrer; "" when the image has none.
func SBOMDigest(ctx context.Context, ref string, kc authn.Keychain) (string, error) {
	d, err := name.NewDigest(ref, name.WeakValidation)
	if err != nil {
		return "", fmt.Errorf("image %q: %w (give REPO@sha256:...)", ref, err)
	}
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	idx, err := remote.Referrers(d, remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithFilter("artifactType", SPDXMediaType))
	if err != nil {
		return "", fmt.Errorf("listing the referrers of %s: %w", ref, classify(d.RegistryStr(), err))
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return "", err
	}
	for _, desc := range m.Manifests {
		if desc.ArtifactType == SPDXMediaType {
			return desc.Digest.String(), nil
		}
	}
	return "", nil
}

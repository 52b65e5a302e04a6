package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/renameio/v2"
)

// PushOptions adjust a push.
type PushOptions struct {
	// Keychain finds credentials (authn.DefaultKeychain when nil: Docker config and helpers).
	Keychain authn.Keychain
	// Transport replaces the HTTP transport (to trust a CA or observe requests).
	Transport http.RoundTripper
	// Jobs is how many blobs are uploaded at once (4 when 0).
	Jobs int
	// Progress receives an event per layer: pushed or already there.
	Progress Progress
	// NoSBOM skips pushing the SBOM referrer.
	NoSBOM bool
}

// Push writes res to the repository repo (e.g. "ghcr.io/acme/app") under res.Tag, uploading
// only the blobs the registry lacks, several at once, retrying 5xx and network errors with
// backoff, and pushes the SBOM beside it as a referrer of the image. It returns repo:tag@digest.
func Push(ctx context.Context, res *Result, repo string, o PushOptions) (string, error) {
	tag, err := name.NewTag(repo+":"+res.Tag, name.WeakValidation)
	if err != nil {
		return "", fmt.Errorf("pushing to %s: not a repository name: %w (set --registry or [build] registry)", repo, err)
	}
	if o.Keychain == nil {
		o.Keychain = authn.DefaultKeychain
	}
	if o.Jobs == 0 {
		o.Jobs = 4
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(o.Keychain),
		remote.WithJobs(o.Jobs),
		remote.WithUserAgent("pyship"),
		remote.WithRetryBackoff(remote.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 4}),
		remote.WithRetryStatusCodes(http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout),
	}
	if o.Transport != nil {
		opts = append(opts, remote.WithTransport(o.Transport))
	}
	reg := tag.Context().RegistryStr()
	// Every write goes through one pusher (one token, blobs checked once); it reports the bytes
	// uploaded so far as in-flight "push" events until uploadsDone.
	pusher, uploadsDone, err := newPusher(opts, o.Progress)
	if err != nil {
		return "", err
	}
	defer uploadsDone()
	opts = append(opts, remote.Reuse(pusher))
	// The SBOM referrer goes up beside the image: registries accept a referrer before its subject.
	sbomErr := make(chan error, 1)
	go func() { sbomErr <- pushSBOM(ctx, res, tag, o, opts) }()
	err = reportLayers(ctx, res, tag.Context(), o, opts)
	if err == nil {
		err = remote.Write(tag, res.Image, opts...)
	}
	if serr := <-sbomErr; err == nil && serr != nil {
		return "", serr
	}
	if err != nil {
		return "", fmt.Errorf("pushing %s: %w", tag, classify(reg, err))
	}
	return tag.String() + "@" + res.Digest.String(), nil
}

func pushSBOM(ctx context.Context, res *Result, tag name.Tag, o PushOptions, opts []remote.Option) error {
	if o.NoSBOM || len(res.SBOM) == 0 {
		return nil
	}
	art, err := sbomArtifact(res.SBOM, res.Image)
	if err != nil {
		return err
	}
	ad, err := art.Digest()
	if err != nil {
		return err
	}
	if err := remote.Write(tag.Context().Digest(ad.String()), art, opts...); err != nil {
		return fmt.Errorf("pushing the SBOM of %s: %w", tag, classify(tag.Context().RegistryStr(), err))
	}
	o.Progress.emit(Event{Step: "sbom", Digest: ad.String(), Bytes: int64(len(res.SBOM)), Message: "referrer of the image"})
	return nil
}

// reportLayers checks which layers the registry already has, for the progress events.
func reportLayers(ctx context.Context, res *Result, repo name.Repository, o PushOptions, opts []remote.Option) error {
	if o.Progress == nil {
		return nil
	}
	layers, err := res.Image.Layers()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(layers))
	for i, l := range layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := l.Digest()
			if err != nil {
				errs[i] = err
				return
			}
			size, _ := l.Size()
			rl, err := remote.Layer(repo.Digest(d.String()), opts...)
			if err != nil {
				errs[i] = err
				return
			}
			ex, ok := rl.(interface{ Exists() (bool, error) })
			if !ok {
				return
			}
			exists, err := ex.Exists()
			switch {
			case err != nil:
				errs[i] = err
			case exists:
				o.Progress.emit(Event{Step: "push", Digest: d.String(), Bytes: size, Cached: true, Message: "already in the registry"})
			default:
				o.Progress.emit(Event{Step: "push", Digest: d.String(), Bytes: size, Message: "uploading"})
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// WriteLayout adds res (and its SBOM as a referrer) to the OCI layout dir under the name
// repo:tag, creating the layout when needed.
func WriteLayout(ctx context.Context, res *Result, dir string) (string, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return "", fmt.Errorf("creating the OCI layout %s: %w", dir, err)
		}
	}
	ref := res.Name + ":" + res.Tag
	if err := p.ReplaceImage(res.Image, matchRefName(ref), layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref}), layout.WithPlatform(Platform)); err != nil {
		return "", fmt.Errorf("writing the image into the OCI layout %s: %w", dir, err)
	}
	if len(res.SBOM) > 0 {
		art, err := sbomArtifact(res.SBOM, res.Image)
		if err != nil {
			return "", err
		}
		ad, _ := art.Digest()
		if err := p.ReplaceImage(art, func(d v1.Descriptor) bool { return d.Digest == ad }); err != nil {
			return "", fmt.Errorf("writing the SBOM into the OCI layout %s: %w", dir, err)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return "oci-layout:" + abs + ":" + ref + "@" + res.Digest.String(), nil
}

func matchRefName(ref string) func(v1.Descriptor) bool {
	return func(d v1.Descriptor) bool { return d.Annotations["org.opencontainers.image.ref.name"] == ref }
}

// WriteTar writes res as a tarball that `docker load` and `podman load` read, tagged name:tag
// (repo, when not "", replaces the name).
func WriteTar(ctx context.Context, res *Result, file, repo string) (string, error) {
	if repo == "" {
		repo = res.Name
	}
	tag, err := name.NewTag(repo+":"+res.Tag, name.WeakValidation)
	if err != nil {
		return "", fmt.Errorf("naming the tarball's image %s: %w", repo, err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return "", err
	}
	f, err := renameio.NewPendingFile(file, renameio.WithPermissions(0o644))
	if err != nil {
		return "", fmt.Errorf("writing the tarball %s: %w", file, err)
	}
	defer f.Cleanup()
	if err := tarball.Write(tag, res.Image, f); err != nil {
		return "", fmt.Errorf("writing the tarball %s: %w", file, err)
	}
	if err := f.CloseAtomicallyReplace(); err != nil {
		return "", fmt.Errorf("writing the tarball %s: %w", file, err)
	}
	return tag.String() + "@" + res.Digest.String(), nil
}

// newPusher returns a pusher for opts that reports upload progress, and the function to call
// once every write through it has returned.
func newPusher(opts []remote.Option, progress Progress) (*remote.Pusher, func(), error) {
	if progress == nil {
		p, err := remote.NewPusher(opts...)
		return p, func() {}, err
	}
	updates := make(chan v1.Update, 16)
	p, err := remote.NewPusher(append(opts[:len(opts):len(opts)], remote.WithProgress(updates))...)
	if err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for u := range updates {
			if u.Error == nil && u.Total > 0 {
				// The SBOM referrer's blobs are counted as they go but not in the total.
				progress(Event{Step: "push", Bytes: u.Complete, Total: max(u.Total, u.Complete), Message: "uploading"})
			}
		}
	}()
	return p, func() { close(updates); <-done }, nil
}

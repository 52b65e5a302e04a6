package image

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// AgentBinary is where the agent image holds pyship.
const AgentBinary = "/usr/local/bin/pyship"

// AgentUID is the agent image's non-root user and group.
const AgentUID = 65532

// ErrNotStatic is returned for a pyship binary that an image without a C library cannot run.
var ErrNotStatic = errors.New("not a static Linux binary")

// AgentOptions adjust the agent image.
type AgentOptions struct {
	// CACerts is a PEM bundle added as /etc/ssl/certs/ca-certificates.crt so the agent
	// reaches HTTPS endpoints (S3, webhooks); empty reads the build host's bundle, if any.
	CACerts []byte
	// Created is the image's creation time (the Unix epoch when zero, so the digest depends
	// on the binary alone).
	Created time.Time
	// Tag names the image in outputs ("agent-" + the binary's digest prefix when empty).
	Tag string
	// Base, when set, is the image the agent is added to (for tools pyship runs, such as
	// pg_dump and pg_restore for PostgreSQL sources); nil is no base at all. Its users,
	// environment and CA bundle are kept.
	Base v1.Image
}

// hostCABundles are where Debian, Fedora and Alpine keep the system's CA bundle.
var hostCABundles = []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"}

// AgentImage packs the static Linux pyship binary exe into a one-layer image with no base, as
// ko packs Go programs: the binary, a CA bundle, a passwd entry for the non-root user and a
// writable /tmp. Kubernetes CronJobs run it for scheduled backups. The same binary and
// options give the same digest. A dynamically linked binary (built with cgo) is refused with
// ErrNotStatic: it would not start without the build host's C library.
func AgentImage(exe string, o AgentOptions) (*Result, error) {
	arch, err := staticLinuxArch(exe)
	if err != nil {
		return nil, fmt.Errorf("packing %s into the agent image: %w (build pyship with CGO_ENABLED=0 GOOS=linux)", exe, err)
	}
	if o.CACerts == nil && o.Base == nil {
		for _, p := range hostCABundles {
			if b, err := os.ReadFile(p); err == nil {
				o.CACerts = b
				break
			}
		}
	}
	if o.Created.IsZero() {
		o.Created = time.Unix(0, 0)
	}
	// The layer is streamed from the binary each time it is read (digest, upload): the
	// binary is large and is never held in memory.
	base, system := o.Base, true
	if base == nil {
		base = empty.Image
	} else {
		system = false // the base has its own passwd, group and CA bundle
		bcf, err := base.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("reading the agent's base image: %w", err)
		}
		if bcf.Architecture != "" && bcf.Architecture != arch {
			return nil, fmt.Errorf("the agent's base image is %s/%s, and the pyship binary is linux/%s", bcf.OS, bcf.Architecture, arch)
		}
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeAgentLayer(pw, exe, o.CACerts, o.Created, system)) }()
		return pr, nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(base, types.OCIManifestSchema1), layer)
	if err != nil {
		return nil, err
	}
	img, err = withConfig(img, func(cf *v1.ConfigFile) error {
		cf.OS, cf.Architecture = "linux", arch
		cf.Created = v1.Time{Time: o.Created.UTC()}
		cf.Config.User = fmt.Sprintf("%d:%d", AgentUID, AgentUID)
		cf.Config.Entrypoint = []string{AgentBinary}
		cf.Config.Cmd = []string{"version"}
		cf.Config.WorkingDir = "/tmp"
		if system {
			cf.Config.Env = []string{"PATH=/usr/local/bin", "HOME=/tmp", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}
		} else {
			cf.Config.Env = append(cf.Config.Env, "HOME=/tmp")
			if !slices.ContainsFunc(cf.Config.Env, func(e string) bool { return strings.HasPrefix(e, "PATH=") }) {
				cf.Config.Env = append(cf.Config.Env, "PATH=/usr/local/bin:/usr/bin:/bin")
			}
		}
		cf.Config.Labels = map[string]string{
			"org.opencontainers.image.title":       "pyship agent",
			"org.opencontainers.image.description": "pyship's own binary, for scheduled backups on Kubernetes",
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, err
	}
	if o.Tag == "" {
		o.Tag = "agent-" + digest.Hex[:12]
	}
	return &Result{Image: img, Digest: digest, Name: "pyship-agent", Tag: o.Tag}, nil
}

// staticLinuxArch is the OCI architecture of the statically linked Linux ELF binary exe.
func staticLinuxArch(exe string) (string, error) {
	f, err := elf.Open(exe)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			return "", err
		}
		return "", fmt.Errorf("%w: not an ELF file", ErrNotStatic)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("%w: it is dynamically linked", ErrNotStatic)
		}
	}
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return "", fmt.Errorf("%w: ELF OS ABI %v", ErrNotStatic, f.OSABI)
	}
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	}
	return "", fmt.Errorf("%w: machine %v is neither amd64 nor arm64", ErrNotStatic, f.Machine)
}

// writeAgentLayer writes the uncompressed tar of the agent image's layer to w: the binary,
// and with system the files a base would have (passwd, group, CA bundle, /tmp).
func writeAgentLayer(w io.Writer, exe string, caCerts []byte, mtime time.Time, system bool) error {
	bin, err := os.Open(exe)
	if err != nil {
		return err
	}
	defer bin.Close()
	fi, err := bin.Stat()
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	dir := func(name string, mode int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, ModTime: mtime, Format: tar.FormatPAX})
	}
	stream := func(name string, mode int64, r io.Reader, size int64) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: size, ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	file := func(name string, mode int64, b []byte) error {
		return stream(name, mode, bytes.NewReader(b), int64(len(b)))
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/tmp:/sbin/nologin\n", AgentUID, AgentUID)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", AgentUID)
	steps := []func() error{
		func() error { return dir("usr/", 0o755) },
		func() error { return dir("usr/local/", 0o755) },
		func() error { return dir("usr/local/bin/", 0o755) },
		func() error { return stream(AgentBinary[1:], 0o755, bin, fi.Size()) },
	}
	if system {
		steps = append(steps,
			func() error { return dir("etc/", 0o755) },
			func() error { return file("etc/passwd", 0o644, []byte(passwd)) },
			func() error { return file("etc/group", 0o644, []byte(group)) },
			func() error { return dir("tmp/", 0o1777) })
	}
	if system && len(caCerts) > 0 {
		steps = append(steps,
			func() error { return dir("etc/ssl/", 0o755) },
			func() error { return dir("etc/ssl/certs/", 0o755) },
			func() error { return file("etc/ssl/certs/ca-certificates.crt", 0o644, caCerts) })
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return tw.Close()
}

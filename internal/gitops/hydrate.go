package gitops

import (
	"encoding/json"

	"filippo.io/age"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/pyship/pyship/internal/kube"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Provenance says where an env folder's objects come from; it is written as provenance.json.
type Provenance struct {
	App     string `json:"app"`
	Env     string `json:"env"`
	Version string `json:"version"`
	// SourceCommit is the app project's Git HEAD ("" when the project is not in Git), with
	// SourceDirty set when its work tree had changes.
	SourceCommit string `json:"sourceCommit"`
	SourceDirty  bool   `json:"sourceDirty,omitempty"`
	// PlanHash is the sha256 of the resolved plan's JSON (without its local folder).
	PlanHash string `json:"planHash"`
	// Image is the app image by digest, REPO@sha256:...; ImageDigest its digest.
	Image       string `json:"image"`
	ImageDigest string `json:"imageDigest"`
	// SBOMDigest is the digest of the image's SPDX SBOM referrer ("" when none was found).
	SBOMDigest string `json:"sbomDigest"`
	Pyship     string `json:"pyship"`
	// Command reproduces the folder from the source commit.
	Command string `json:"command"`
	// Objects are the files of the folder's objects, in apply order.
	Objects []string `json:"objects"`
	// OmittedSecrets names Secrets left out of the folder (their values are never written in
	// plaintext); they must exist in the cluster.
	OmittedSecrets []string `json:"omittedSecrets,omitempty"`
	// AgeRecipients are the age public keys the folder's SOPS-encrypted Secrets are
	// encrypted to.
	AgeRecipients []string `json:"ageRecipients,omitempty"`
}

// Input is what one env folder is hydrated from.
type Input struct {
	Bundle     *kube.Bundle
	Provenance Provenance
	// AgeRecipients, when set, has Secrets written SOPS-encrypted to these age public keys
	// (secret-NAME.sops.yaml); else they are left out. Encryption is the one part of a folder
	// that differs between two hydrations of the same input: Now stamps it and Rand (crypto/rand
	// when nil) keys it.
	AgeRecipients []string
	Now           time.Time
	Rand          io.Reader
	// AgeIdentities, when they can decrypt the folder's current encrypted Secret, let a push
	// keep its bytes when its content is unchanged (see SOPSEqual).
	AgeIdentities []age.Identity
}

// keepEncrypted keeps the repository's encrypted Secret files whose content is in's own.
func (in Input) keepEncrypted() func(string, []byte) bool {
	if len(in.AgeIdentities) == 0 || len(in.AgeRecipients) == 0 {
		return nil
	}
	return func(name string, old []byte) bool {
		for _, o := range in.Bundle.Objects {
			if o.GetKind() == "Secret" && name == "secret-"+o.GetName()+".sops.yaml" {
				return SOPSEqual(old, o.Object, in.AgeRecipients, in.AgeIdentities)
			}
		}
		return false
	}
}

// Files are the contents of one env folder, by name relative to the folder.
type Files map[string][]byte

// kustomization is the kustomization.yaml of an env folder.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
}

var (
	nameRE   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	digestRE = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)
)

// EnvPath is the folder of app's env in the repository: apps/APP/ENV below root.
func EnvPath(root, app, env string) (string, error) {
	if !nameRE.MatchString(app) {
		return "", fmt.Errorf("app name %q cannot name a folder: use lowercase letters, digits and '-'", app)
	}
	if env == "" {
		return "", fmt.Errorf("no environment: pass --env NAME (an [env.NAME] of the spec)")
	}
	if !nameRE.MatchString(env) {
		return "", fmt.Errorf("env name %q cannot name a folder: use lowercase letters, digits and '-'", env)
	}
	r, err := CleanPath(root)
	if err != nil {
		return "", err
	}
	return path.Join(r, "apps", app, env), nil
}

// CleanPath checks a folder given relative to the repository's root and cleans it ("" and "."
// are the root). A path that is absolute or leaves the repository is refused.
func CleanPath(p string) (string, error) {
	if p == "" {
		return ".", nil
	}
	if strings.HasPrefix(p, "/") || strings.Contains(p, `\`) {
		return "", fmt.Errorf("--path %q: give a folder relative to the repository's root, with '/'", p)
	}
	c := path.Clean(p)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("--path %q is outside the repository: give a folder inside it, relative to its root", p)
	}
	if c == ".git" || strings.HasPrefix(c, ".git/") {
		return "", fmt.Errorf("--path %q is inside the repository's .git folder", p)
	}
	return c, nil
}

// Hydrate renders one env folder: a file per object, a kustomization.yaml listing them in
// apply order, provenance.json and README.md. It is a pure function of its input, so the same
// input gives the same bytes. Secrets are left out (named in the provenance and the README):
// values never go to Git in plaintext. Images must be by digest.
func Hydrate(in Input) (Files, error) {
	b, prov := in.Bundle, in.Provenance
	if b == nil {
		return nil, fmt.Errorf("hydrating: no objects")
	}
	b = kube.ForKubectl(b) // the GitOps controller applies it, not pyship's rollout engine
	if !digestRE.MatchString(prov.Image) {
		return nil, fmt.Errorf("hydrating %s: the image %q is not by digest: give --image REPO@sha256:... (`pyship build --push` prints it)", prov.App, prov.Image)
	}
	files := Files{}
	prov.Objects = nil
	prov.OmittedSecrets = nil
	prov.AgeRecipients = in.AgeRecipients
	for _, o := range b.Objects {
		if o.GetKind() == "Secret" && len(in.AgeRecipients) == 0 {
			prov.OmittedSecrets = append(prov.OmittedSecrets, o.GetName())
			continue
		}
		if o.GetKind() == "Secret" {
			name := "secret-" + o.GetName() + ".sops.yaml"
			data, err := SOPS(o.Object, in.AgeRecipients, in.Now, in.Rand)
			if err != nil {
				return nil, fmt.Errorf("encrypting the Secret %s: %w", o.GetName(), err)
			}
			files[name] = data
			prov.Objects = append(prov.Objects, name)
			continue
		}
		if err := checkImages(o); err != nil {
			return nil, err
		}
		name := objectFile(o)
		if _, dup := files[name]; dup {
			return nil, fmt.Errorf("hydrating %s: two objects would be written to %s", prov.App, name)
		}
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return nil, fmt.Errorf("writing %s %s as YAML: %w", o.GetKind(), o.GetName(), err)
		}
		files[name] = data
		prov.Objects = append(prov.Objects, name)
	}
	k, err := yaml.Marshal(kustomization{APIVersion: "kustomize.config.k8s.io/v1beta1", Kind: "Kustomization", Resources: prov.Objects})
	if err != nil {
		return nil, err
	}
	files["kustomization.yaml"] = k
	pj, err := json.MarshalIndent(prov, "", "  ")
	if err != nil {
		return nil, err
	}
	files["provenance.json"] = append(pj, '\n')
	files["README.md"] = []byte(readme(prov))
	return files, nil
}

// objectFile names an object's file: kind-name.yaml (Hydrate refuses two objects on one name).
func objectFile(o *unstructured.Unstructured) string {
	return strings.ToLower(o.GetKind()) + "-" + o.GetName() + ".yaml"
}

// checkImages refuses a workload whose container images are not by digest.
func checkImages(o *unstructured.Unstructured) error {
	var podSpec []string
	switch o.GetKind() {
	case "Deployment", "StatefulSet", "DaemonSet", "Job":
		podSpec = []string{"spec", "template", "spec"}
	case "CronJob":
		podSpec = []string{"spec", "jobTemplate", "spec", "template", "spec"}
	default:
		return nil
	}
	for _, field := range []string{"initContainers", "containers"} {
		cs, _, _ := unstructured.NestedSlice(o.Object, append(podSpec, field)...)
		for _, c := range cs {
			m, _ := c.(map[string]any)
			img, _ := m["image"].(string)
			if !digestRE.MatchString(img) {
				return fmt.Errorf("hydrating %s %s: container %v runs %q, not an image by digest: give images as REPO@sha256:...", o.GetKind(), o.GetName(), m["name"], img)
			}
		}
	}
	return nil
}

func readme(p Provenance) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# %s — %s\n\n", p.App, p.Env)
	fmt.Fprintf(&sb, "Generated by pyship %s; do not edit by hand: the next push overwrites this folder.\n\n", p.Pyship)
	fmt.Fprintf(&sb, "- version: %s\n- image: `%s`\n", p.Version, p.Image)
	if p.SBOMDigest != "" {
		fmt.Fprintf(&sb, "- SBOM (SPDX, a referrer of the image): `%s`\n", p.SBOMDigest)
	}
	if p.SourceCommit != "" {
		dirty := ""
		if p.SourceDirty {
			dirty = " (with uncommitted changes)"
		}
		fmt.Fprintf(&sb, "- source commit: `%s`%s\n", p.SourceCommit, dirty)
	}
	fmt.Fprintf(&sb, "- plan hash: `%s`\n\n", p.PlanHash)
	sb.WriteString("Reproduce this folder from the source commit, in the app's project folder:\n\n")
	fmt.Fprintf(&sb, "```sh\n%s\n```\n\n", p.Command)
	sb.WriteString("Build it with `kustomize build .` (or `kubectl apply -k .`); provenance.json says the same as this file for tools.\n")
	if len(p.AgeRecipients) > 0 {
		fmt.Fprintf(&sb, "\nSecrets are SOPS-encrypted (secret-*.sops.yaml) to the age recipients %s; Flux decrypts them (Kustomization spec.decryption), `sops decrypt FILE` shows them to a holder of a matching key.\n", strings.Join(p.AgeRecipients, ", "))
	}
	if len(p.OmittedSecrets) > 0 {
		fmt.Fprintf(&sb, "\nSecrets are not written here in plaintext; create them in the cluster: %s.\n", strings.Join(p.OmittedSecrets, ", "))
	}
	return sb.String()
}

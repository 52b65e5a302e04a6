package gitops

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// AutoBranch asks PushEnv to name the change's own branch after its content.
const AutoBranch = "-"

// PushEnv hydrates one env folder (root/apps/APP/ENV) and publishes it as one commit whose
// message names the app, env, version and image digest. A t.Branch of AutoBranch is replaced
// by pyship/APP-ENV-VERSION-HASH, HASH naming the folder's content, so pushing the same change
// twice reuses its branch.
func PushEnv(ctx context.Context, t Target, root string, in Input) (*Result, string, error) {
	prov := in.Provenance
	dir, err := EnvPath(root, prov.App, prov.Env)
	if err != nil {
		return nil, "", err
	}
	files, err := Hydrate(in)
	if err != nil {
		return nil, "", err
	}
	if t.Branch == AutoBranch {
		t.Branch = changeBranch(prov, files)
	}
	if t.Message == "" {
		t.Message = CommitMessage(prov)
	}
	res, err := Publish(ctx, t, []Change{{Path: dir, Files: files, Keep: in.keepEncrypted()}})
	return res, dir, err
}

// CommitMessage is "deploy APP to ENV: VERSION (DIGEST)" with the provenance as its body.
func CommitMessage(p Provenance) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "deploy %s to %s: %s (%s)\n\n", p.App, p.Env, p.Version, p.ImageDigest)
	fmt.Fprintf(&sb, "image: %s\n", p.Image)
	if p.SBOMDigest != "" {
		fmt.Fprintf(&sb, "sbom: %s\n", p.SBOMDigest)
	}
	if p.SourceCommit != "" {
		fmt.Fprintf(&sb, "source: %s\n", p.SourceCommit)
	}
	fmt.Fprintf(&sb, "plan: %s\npyship: %s\n", p.PlanHash, p.Pyship)
	return sb.String()
}

var refUnsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func changeBranch(p Provenance, files Files) string {
	version := strings.Trim(refUnsafe.ReplaceAllString(p.Version, "-"), "-.")
	if version == "" {
		version = "unversioned"
	}
	return fmt.Sprintf("pyship/%s-%s-%s-%s", p.App, p.Env, version, changesHash([]Change{{Files: files}}))
}

// changesHash names the content of changes: 12 hex digits of a sha256 over their files, but
// the encrypted ones, whose bytes differ at each encryption.
func changesHash(changes []Change) string {
	h := sha256.New()
	for _, c := range changes {
		names := make([]string, 0, len(c.Files))
		for n := range c.Files {
			if !strings.HasSuffix(n, ".sops.yaml") {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		fmt.Fprintf(h, "%s\x00", c.Path)
		for _, n := range names {
			fmt.Fprintf(h, "%s\x00%d\x00", n, len(c.Files[n]))
			h.Write(c.Files[n])
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

package kubetarget

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/pyship/pyship/internal/image"
	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/platform"
)

// Render renders p for the Kubernetes target: the spec's [kubernetes] keys, overridden by
// flags, with the config folder and secrets read from disk, into namespace (when "", the
// spec's).
func Render(p *plan.Plan, flags kube.Options, namespace string) (*kube.Bundle, error) {
	o := kube.OptionsFor(p).Override(flags)
	if namespace != "" {
		o.Namespace = namespace
	}
	if err := kube.LoadInputs(p, &o); err != nil {
		return nil, err
	}
	// An agent image built on a base is taken to have pg_dump.
	o.AgentHasPostgres = o.AgentHasPostgres || o.AgentBase != ""
	if o.AgentImage == "" && (ClusterBackups(p) || kube.ProxySidecar(p, o)) {
		// Rendering needs only the agent image's digest, which its bytes decide: no push.
		res, repo, err := agentImage(context.Background(), nil, o.Image, o.AgentBase)
		if err != nil {
			return nil, err
		}
		o.AgentImage = repo + ":" + res.Tag + "@" + res.Digest.String()
	}
	b, err := kube.Render(p, o)
	if err != nil {
		return nil, platform.Invalid(err)
	}
	return b, nil
}

// byDigest refuses an app image not given by digest.
func byDigest(img string) error {
	if !strings.Contains(img, "@sha256:") {
		return platform.Invalid(fmt.Errorf("--image %q: give the image by digest, REPO@sha256:... (`pyship build` prints it), so every pod runs the same bytes", img))
	}
	return nil
}

// withAgentImage settles pyship's agent image in flags for objects that run it ([backup] in
// the cluster, the proxy sidecar) when flags name none: with push, it is packed from this
// pyship binary and pushed beside flags.Image (content-addressed, so pushing it again changes
// nothing), and flags name it by digest; without, Render names it by its digest alone. An
// agent image of the user's is taken to have pg_dump.
func (k *Platform) withAgentImage(ctx context.Context, p *plan.Plan, flags *kube.Options, push bool) error {
	flags.AgentHasPostgres = flags.AgentImage != ""
	merged := kube.OptionsFor(p).Override(*flags)
	if !push || merged.AgentImage != "" || !ClusterBackups(p) && !kube.ProxySidecar(p, merged) {
		return nil
	}
	res, repo, err := agentImage(ctx, k.o.Env, flags.Image, merged.AgentBase)
	if err != nil {
		return err
	}
	if flags.AgentImage, err = image.Push(ctx, res, repo, image.PushOptions{NoSBOM: true}); err != nil {
		return fmt.Errorf("pushing pyship's agent image (for [backup] in the cluster or the proxy sidecar) beside %s: %w; or give one with --agent-image REPO@sha256:...", repo, err)
	}
	k.progress("pushed pyship's agent image %s", flags.AgentImage)
	return nil
}

// ClusterBackups is true when the plan backs up from inside the cluster, in pyship's agent
// image: a [backup] schedule (a CronJob) or [deploy] backup_before (a Job before each deploy).
func ClusterBackups(p *plan.Plan) bool {
	return p.Backup != nil && (p.Backup.Schedule != "" || p.Deploy.BackupBefore)
}

// agentImage packs this pyship binary into the agent image, named beside appImage: the same
// repository (which the deploy can already push to and the cluster pull from), tag agent-HASH.
func agentImage(ctx context.Context, env []string, appImage, base string) (*image.Result, string, error) {
	ref, err := name.ParseReference(appImage, name.WeakValidation)
	if err != nil {
		return nil, "", platform.Invalid(fmt.Errorf("image %q: %w", appImage, err))
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, "", fmt.Errorf("finding the pyship binary for the backup CronJob's agent image: %w", err)
	}
	var ao image.AgentOptions
	if base != "" {
		if ao.Base, err = image.Open(ctx, base, image.DefaultCacheDir(env)); err != nil {
			return nil, "", fmt.Errorf("the agent image's base ([kubernetes] agent_base or --agent-base): %w", err)
		}
	}
	res, err := image.AgentImage(exe, ao)
	if err != nil {
		return nil, "", fmt.Errorf("[backup] on Kubernetes runs in pyship's agent image: %w; or pass --agent-image", err)
	}
	return res, ref.Context().Name(), nil
}

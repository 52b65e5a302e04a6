package kube

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Labels and annotations pyship puts on what it renders.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelApp       = "pyship.dev/app"
	LabelRelease   = "pyship.dev/release"
	LabelTrack     = "pyship.dev/track"
	LabelPartOf    = "applyset.kubernetes.io/part-of"

	AnnotationConfigHash = "pyship.dev/config-hash"
	AnnotationSecretHash = "pyship.dev/secret-hash"
	AnnotationImage      = "pyship.dev/image"
	AnnotationKeep       = "pyship.dev/keep-on-prune"

	FieldManager = "pyship"
	ManagedBy    = "pyship"
)

// Options are the rendering choices the plan does not (yet) carry: where the image is, the
// host, resources and cluster features.
type Options struct {
	// Namespace the objects go to ("default" when empty).
	Namespace string
	// Image is the app image, by digest (repo@sha256:...).
	Image string
	// Release names the release the Deployment belongs to; when empty, a hash of the whole
	// pod template (image, command, env, resources, probes, volumes, config and secret hashes),
	// so any change to what the pods run is a new release.
	Release string

	// Host, when set, exposes the app through an Ingress (or an HTTPRoute with GatewayAPI).
	Host string
	// TLSSecret holds the certificate for Host ("<name>-tls" by default when ClusterIssuer is set).
	TLSSecret string
	// ClusterIssuer adds the cert-manager annotation asking for a certificate.
	ClusterIssuer string
	// IngressClass is the Ingress class name ("" for the cluster's default).
	IngressClass string
	// GatewayAPI renders an HTTPRoute attached to Gateway instead of an Ingress.
	GatewayAPI bool
	// Gateway is the parent Gateway, "name" or "namespace/name".
	Gateway string

	// CPU and Memory are the container's requests; the limits are CPULimit and MemoryLimit
	// (defaults 250m/256Mi requests, 1 CPU/512Mi limits).
	CPU, Memory, CPULimit, MemoryLimit string
	// MaxReplicas > replicas adds a HorizontalPodAutoscaler on CPU (TargetCPU percent, default 70).
	MaxReplicas int
	TargetCPU   int
	// StorageClass and StorageSize for each persistent data folder ("" = cluster default, 1Gi).
	StorageClass, StorageSize string
	// AccessMode of those volumes ("" = ReadWriteOnce).
	AccessMode string
	// NodeSelector constrains where the pods run.
	NodeSelector map[string]string

	// ConfigFiles is the content of the config folder (file name → content).
	ConfigFiles map[string]string
	// Secrets are the secret variables; rendered only when IncludeSecrets is set
	// (otherwise the Secret object is rendered with its keys only, values empty).
	Secrets        map[string]string
	IncludeSecrets bool

	// AgentImage is pyship's own image (by digest) that the scheduled backup CronJob runs;
	// needed when the plan's [backup] table has a schedule.
	AgentImage string
	// AgentHasPostgres tells that AgentImage has pg_dump and pg_restore (built on a base that
	// has them, or an image of the user's), so [backup] postgres sources run in the cluster.
	AgentHasPostgres bool
	// AgentBase is the image the CLI builds AgentImage on ([kubernetes] agent_base); a given
	// base is taken to hold pg_dump and pg_restore.
	AgentBase string

	// Monitoring adds a ServiceMonitor and a PrometheusRule (only when their CRDs exist).
	Monitoring bool
	// ProxySidecar puts pyship's proxy sidecar (AgentImage) in front of the app in each pod;
	// nil decides by what reads its series (see ProxySidecar).
	ProxySidecar *bool
}

func (o Options) withDefaults() Options {
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.CPU, "250m")
	def(&o.Memory, "256Mi")
	def(&o.CPULimit, "1")
	def(&o.MemoryLimit, "512Mi")
	def(&o.StorageSize, "1Gi")
	if o.TargetCPU == 0 {
		o.TargetCPU = 70
	}
	return o
}

func (o Options) validate() error {
	for flag, v := range map[string]string{"cpu": o.CPU, "memory": o.Memory, "cpu-limit": o.CPULimit, "memory-limit": o.MemoryLimit, "storage-size": o.StorageSize} {
		if _, err := resource.ParseQuantity(v); err != nil {
			return fmt.Errorf("render option %s: %q is not a Kubernetes quantity (e.g. 500m, 1, 256Mi): %w", flag, v, err)
		}
	}
	if o.Image == "" {
		return fmt.Errorf("render: no image given; pass --image REPO@sha256:DIGEST (`pyship build --push` prints it), e.g. pyship render --image \"$(pyship build --push)\"")
	}
	return nil
}

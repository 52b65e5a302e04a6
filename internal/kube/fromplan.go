package kube

import (
	"time"

	"github.com/pyship/pyship/internal/plan"
	"github.com/pyship/pyship/internal/rollout"
)

// DeployOptionsFor fills DeployOptions from the plan's [deploy] table (replicas, rollback window,
// canary steps, pause and thresholds) and its startup timeout; unparseable durations were
// rejected when the plan was resolved.
func DeployOptionsFor(p *plan.Plan, progress Progress) DeployOptions {
	o := DeployOptions{Replicas: max(p.Deploy.Replicas, 1), Prune: true, Progress: progress}
	o.RollbackWindow, _ = time.ParseDuration(p.Deploy.RollbackWindow)
	if startup, err := time.ParseDuration(p.Health.StartupTimeout); err == nil {
		o.StartupTimeout = startup + time.Minute // the image pull and scheduling come first
	}
	if c := p.Deploy.Canary; c != nil {
		o.Steps = append([]int(nil), c.Steps...)
		o.Pause, _ = time.ParseDuration(c.Pause)
		o.MinRequests, o.MaxErrorRate, o.MaxLatencyRatio = c.MinRequests, c.MaxErrorRate, c.MaxLatencyRatio
		o.NoTraffic = rollout.NoTrafficPolicy(c.NoTraffic)
		o.NoTrafficAfter, _ = time.ParseDuration(c.NoTrafficAfter)
		for _, ch := range c.Checks {
			o.Checks = append(o.Checks, rollout.Check(ch))
		}
		o.MaxBurnRate, o.Objective = c.MaxBurnRate, c.Availability/100
	}
	return o
}

// OptionsFor fills the rendering Options from the plan's [kubernetes] keys (zero Options when it
// has none). A gateway renders an HTTPRoute instead of an Ingress.
func OptionsFor(p *plan.Plan) Options {
	k := p.Kubernetes
	if k == nil {
		return Options{}
	}
	return Options{Namespace: k.Namespace, Host: k.Host, TLSSecret: k.TLSSecret, ClusterIssuer: k.ClusterIssuer,
		IngressClass: k.IngressClass, GatewayAPI: k.Gateway != "", Gateway: k.Gateway,
		CPU: k.CPU, Memory: k.Memory, CPULimit: k.CPULimit, MemoryLimit: k.MemoryLimit,
		MaxReplicas: k.MaxReplicas, TargetCPU: k.TargetCPU, StorageClass: k.StorageClass, StorageSize: k.StorageSize, AccessMode: k.AccessMode,
		Monitoring: k.Monitoring, AgentBase: k.AgentBase, ProxySidecar: k.ProxySidecar}
}

// Override returns o with every option set in flags (non-zero) taking precedence.
func (o Options) Override(flags Options) Options {
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&o.Namespace, flags.Namespace}, {&o.Image, flags.Image}, {&o.Release, flags.Release}, {&o.Host, flags.Host},
		{&o.TLSSecret, flags.TLSSecret}, {&o.ClusterIssuer, flags.ClusterIssuer}, {&o.IngressClass, flags.IngressClass},
		{&o.Gateway, flags.Gateway}, {&o.CPU, flags.CPU}, {&o.Memory, flags.Memory}, {&o.CPULimit, flags.CPULimit},
		{&o.MemoryLimit, flags.MemoryLimit}, {&o.StorageClass, flags.StorageClass}, {&o.StorageSize, flags.StorageSize},
		{&o.AgentImage, flags.AgentImage}, {&o.AgentBase, flags.AgentBase},
	} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if flags.MaxReplicas != 0 {
		o.MaxReplicas = flags.MaxReplicas
	}
	if flags.TargetCPU != 0 {
		o.TargetCPU = flags.TargetCPU
	}
	o.GatewayAPI = o.GatewayAPI || flags.GatewayAPI || flags.Gateway != ""
	o.Monitoring = o.Monitoring || flags.Monitoring
	if flags.ProxySidecar != nil {
		o.ProxySidecar = flags.ProxySidecar
	}
	o.AgentHasPostgres = o.AgentHasPostgres || flags.AgentHasPostgres
	if flags.NodeSelector != nil {
		o.NodeSelector = flags.NodeSelector
	}
	if flags.IncludeSecrets {
		o.IncludeSecrets = true
	}
	return o
}

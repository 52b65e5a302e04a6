package kube_test

import (
	"fmt"
	"strings"

	"github.com/pyship/pyship/internal/kube"
	"github.com/pyship/pyship/internal/plan"
)

func ExampleRender() {
	p := &plan.Plan{Name: "shop",
		Run:    plan.Run{Kind: "web", Server: "gunicorn", Port: 8000},
		Health: plan.Health{Type: "http", Path: "/healthz"},
		Deploy: plan.Deploy{Strategy: "rolling", Replicas: 2}}
	b, err := kube.Render(p, kube.Options{Namespace: "prod", Image: "ghcr.io/acme/shop@sha256:" + fmt.Sprintf("%064d", 0), Host: "shop.example.com"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range b.Objects { // each release has its own Deployment, APP-RELEASE
		fmt.Println(o.GetKind(), strings.Replace(o.GetName(), b.Release, "RELEASE", 1))
	}
	// Output:
	// ServiceAccount shop
	// Service shop
	// Deployment shop-RELEASE
	// PodDisruptionBudget shop
	// NetworkPolicy shop
	// Ingress shop
}

func ExampleOptionsFor() {
	p := &plan.Plan{Name: "shop", Kubernetes: &plan.Kubernetes{Namespace: "shop", CPU: "500m", Gateway: "infra/public"}}
	// The spec's [kubernetes] keys, then the command line's flags on top.
	o := kube.OptionsFor(p).Override(kube.Options{CPU: "2", Image: "ghcr.io/acme/shop@sha256:" + fmt.Sprintf("%064d", 0)})
	fmt.Println(o.Namespace, o.CPU, o.GatewayAPI, o.Gateway)
	// Output:
	// shop 2 true infra/public
}

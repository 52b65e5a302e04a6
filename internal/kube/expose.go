package kube

import (
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// exposure renders an Ingress, or an HTTPRoute with the Gateway API, when a host is set.
func (r *renderer) exposure() (runtime.Object, error) {
	if r.o.Host == "" || !r.isWeb() {
		return nil, nil
	}
	if r.o.GatewayAPI {
		return r.httpRoute(), nil
	}
	prefix := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: r.meta(r.app),
		Spec: networkingv1.IngressSpec{
			Rules: []networkingv1.IngressRule{{
				Host: r.o.Host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{
						Path: "/", PathType: &prefix,
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
							Name: r.app, Port: networkingv1.ServiceBackendPort{Name: "http"},
						}},
					}},
				}},
			}},
		},
	}
	if r.o.IngressClass != "" {
		ing.Spec.IngressClassName = &r.o.IngressClass
	}
	tlsSecret := r.o.TLSSecret
	if r.o.ClusterIssuer != "" {
		ing.Annotations = map[string]string{"cert-manager.io/cluster-issuer": r.o.ClusterIssuer}
		if tlsSecret == "" {
			tlsSecret = r.app + "-tls"
		}
	}
	if tlsSecret != "" {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{r.o.Host}, SecretName: tlsSecret}}
	}
	return ing, nil
}

// httpRoute sends the host's traffic to the app; canary rollouts weight its backendRefs.
// TLS is terminated by the parent Gateway's listener.
func (r *renderer) httpRoute() *gwv1.HTTPRoute {
	backend := r.app
	if strategy(r.p) == "canary" {
		backend = ReleaseServiceName(r.app, r.release)
	}
	return &gwv1.HTTPRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1", Kind: "HTTPRoute"},
		ObjectMeta: r.meta(r.app),
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{r.parentRef()}},
			Hostnames:       []gwv1.Hostname{gwv1.Hostname(r.o.Host)},
			Rules: []gwv1.HTTPRouteRule{{
				BackendRefs: []gwv1.HTTPBackendRef{backendRef(backend, 100)},
			}},
		},
	}
}

func (r *renderer) parentRef() gwv1.ParentReference {
	gw := r.o.Gateway
	if gw == "" {
		gw = "gateway"
	}
	ref := gwv1.ParentReference{}
	if ns, name, ok := strings.Cut(gw, "/"); ok {
		n := gwv1.Namespace(ns)
		ref.Namespace = &n
		gw = name
	}
	ref.Name = gwv1.ObjectName(gw)
	return ref
}

func backendRef(service string, weight int32) gwv1.HTTPBackendRef {
	port := gwv1.PortNumber(80)
	return gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{
		BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(service), Port: &port},
		Weight:                 &weight,
	}}
}

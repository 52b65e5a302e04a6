package kube

import (
	"context"
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Destroy deletes every object pyship applied for the app (its ApplySet members and release
// Deployments) and the inventory itself. Persistent volume claims are kept unless withData.
func (c *Client) Destroy(ctx context.Context, app string, withData bool, progress Progress) ([]string, error) {
	b := &Bundle{App: app, Namespace: c.Namespace}
	kinds, err := c.inventoryKinds(ctx, b)
	if err != nil {
		return nil, err
	}
	kinds["Deployment.apps"] = true
	kinds["Service"] = true
	var deleted []string
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	sel := LabelPartOf + "=" + ApplySetID(app, c.Namespace)
	for _, k := range names {
		m, err := c.mappingFor(k)
		if err != nil {
			continue
		}
		ri := c.resource(m, c.Namespace)
		list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return deleted, fmt.Errorf("destroy %s: listing %s: %w", app, m.Resource.Resource, err)
		}
		for _, it := range list.Items {
			if it.GetAnnotations()[AnnotationKeep] == "true" && !withData {
				progress.printf("keeping %s/%s (pass --with-data to delete it)", it.GetKind(), it.GetName())
				continue
			}
			bg := metav1.DeletePropagationBackground
			if err := ri.Delete(ctx, it.GetName(), metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil && !isNotFound(err) {
				return deleted, objectError("delete", &it, m.Resource.Resource, c.Namespace, err)
			}
			deleted = append(deleted, it.GetKind()+"/"+it.GetName())
			progress.printf("deleted %s/%s", it.GetKind(), it.GetName())
		}
	}
	err = c.Core.CoreV1().Secrets(c.Namespace).Delete(ctx, ApplySetParentName(app), metav1.DeleteOptions{})
	if err != nil && !isNotFound(err) {
		return deleted, fmt.Errorf("destroy %s: deleting the inventory Secret: %w", app, err)
	}
	return deleted, nil
}

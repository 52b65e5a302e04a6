package kube

import (
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ErrConflict is wrapped by errors from objects whose fields another field manager owns.
var ErrConflict = errors.New("field ownership conflict")

// ErrForbidden is wrapped by errors from requests the cluster's RBAC denies.
var ErrForbidden = errors.New("forbidden by RBAC")

// objectError explains a failed request about one object in terms a user can act on.
func objectError(verb string, u *unstructured.Unstructured, resource, namespace string, err error) error {
	what := fmt.Sprintf("%s %s/%s", u.GetKind(), namespace, u.GetName())
	switch {
	case apierrors.IsConflict(err):
		var owners []string
		if st, ok := err.(apierrors.APIStatus); ok && st.Status().Details != nil {
			for _, c := range st.Status().Details.Causes {
				msg := strings.TrimSpace(c.Message)
				if c.Field != "" {
					msg = c.Field + ": " + msg
				}
				owners = append(owners, msg)
			}
		}
		return fmt.Errorf("%w: applying %s: fields are owned by another manager (%s); "+
			"stop the other tool from managing them, or rerun with --force-conflicts to take them over", ErrConflict, what, strings.Join(owners, "; "))
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w: %s %s: your kubeconfig's user may not %s %s in namespace %q; "+
			"ask a cluster admin for a Role granting get, list, watch, create, patch and delete on them (server said: %v)",
			ErrForbidden, verb, what, verb, resource, namespace, apierrors.ReasonForError(err))
	case apierrors.IsNotFound(err) && namespace != "":
		return fmt.Errorf("%s %s: %w (does namespace %q exist? create it or pass --namespace)", verb, what, err, namespace)
	}
	return fmt.Errorf("%s %s: %w", verb, what, err)
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }

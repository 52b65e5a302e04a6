package kube

import (
	"crypto/sha256"
	"encoding/base64"
)

// ApplySet labels and annotations (KEP-3659), so kubectl's --applyset tooling recognises pyship's set.
const (
	ApplySetParentIDLabel  = "applyset.kubernetes.io/id"
	ApplySetToolingAnno    = "applyset.kubernetes.io/tooling"
	ApplySetGroupKindsAnno = "applyset.kubernetes.io/contains-group-kinds"
	ApplySetTooling        = "pyship/v1"
)

// ApplySetParentName is the Secret that records the app's inventory (the ApplySet parent).
func ApplySetParentName(app string) string { return "pyship-" + app + "-inventory" }

// ApplySetID is the ApplySet id of the app: a hash of its parent Secret's name and namespace.
func ApplySetID(app, namespace string) string {
	h := sha256.Sum256([]byte(ApplySetParentName(app) + "." + namespace + ".Secret."))
	return "applyset-" + base64.RawURLEncoding.EncodeToString(h[:]) + "-v1"
}

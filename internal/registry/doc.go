// Package registry runs a persistent OCI registry on this machine (CNCF distribution with filesystem storage), the default push target when none is configured.
package registry

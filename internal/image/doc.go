// Package image builds reproducible, layered OCI images of Python apps without a daemon: a base, a cached dependency layer, an app layer, config and SBOM, written to a registry, an OCI layout or a tarball.
package image

// Package testsvc is what tests share: the real services they need (registry, kube, s3, ...)
// started through scripts/services, test ports reserved across packages, and one way to wait
// for a state; it is imported by tests only.
package testsvc

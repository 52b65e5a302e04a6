// Package testsvc starts the real services that tests need (registry, kube, s3, ...) through scripts/services and hands their settings to the test; it is imported by tests only.
package testsvc

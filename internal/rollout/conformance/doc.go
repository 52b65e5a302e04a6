// Package conformance checks that a rollout.Target keeps the contract rollout.Engine relies
// on, as go-containerregistry's validate package checks images: the tests of every target
// (the local agent's apps, Kubernetes releases) run it against a real one.
package conformance

// Package supervise runs replicas as supervised process groups: private ports, readiness and liveness probes, restarts with backoff, logs to files and a diagnosis when one fails.
package supervise

// Package agent is pyship's long-lived local agent: it owns each app's proxy, supervised replicas, rollouts and state, and answers the CLI over a unix socket.
package agent

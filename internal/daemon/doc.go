// Package daemon starts pyship's own background processes (the local agent, the built-in
// registry) detached from the command that needs them, and waits until they answer.
package daemon

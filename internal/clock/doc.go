// Package clock is pyship's one time source: the rollout engine (both targets), the local
// agent, backup schedules and backups read the time and wait through a Clock, so tests move it.
package clock

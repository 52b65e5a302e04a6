// Package cli holds pyship's commands: one file per verb, each filling an options struct and calling one library function.
package cli

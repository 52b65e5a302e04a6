// Package version holds pyship's own version, set at build time with -ldflags.
package version

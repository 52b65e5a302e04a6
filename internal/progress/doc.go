// Package progress shows long work to the person running pyship: a live status line on a
// terminal, plain lines (few, and only when something changes) when the output is a file, a
// pipe or CI.
package progress

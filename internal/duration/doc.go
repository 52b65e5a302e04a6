// Package duration is how pyship's JSON output writes a duration: Go's duration string.
package duration

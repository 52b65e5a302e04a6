// Package bench compares pyship against the standard tools on real services.
package bench

// Package plan resolves an app spec and the detected facts of a project into one Plan: the app as pyship will build and run it.
package plan

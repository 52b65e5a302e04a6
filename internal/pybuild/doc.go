// Package pybuild prepares a Python app for shipping: it selects the app's files, checks their syntax, installs dependencies and byte-compiles.
package pybuild

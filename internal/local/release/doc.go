// Package release turns a resolved plan into a release folder on this machine: the app's files, a venv with its dependencies for the host interpreter, and links to persistent data.
package release

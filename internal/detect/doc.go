// Package detect finds the facts a Python project states about itself (dependencies, Python version, start command, port, health route), each with the file and line that says so.
package detect

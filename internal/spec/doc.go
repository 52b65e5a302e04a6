// Package spec reads, validates and overlays pyship.toml (or [tool.pyship] in pyproject.toml), the declarative description of an app.
package spec

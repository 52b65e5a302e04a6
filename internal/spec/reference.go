package spec

import (
	"bytes"
	"fmt"
	"slices"
)

// Reference returns the Markdown reference of every spec key (type, allowed values, default,
// description, example), generated from the same field table that drives decoding.
// docs/spec.md is this output.
func Reference() []byte {
	fs := fields()
	var b bytes.Buffer
	b.WriteString(`# pyship.toml reference

<!-- Generated from internal/spec (Reference). Do not edit: run PYSHIP_UPDATE_DOCS=1 go test ./internal/spec/ -->

The spec of an app lives in ` + "`pyship.toml`" + ` in the project folder, or under ` + "`[tool.pyship]`" + ` in
` + "`pyproject.toml`" + ` with the same keys (` + "`[tool.pyship.run]`" + `, ...). Having both is an error: keep one.
Every key is optional: a project without a spec is normal, and pyship infers what is not set.
"Default" below is what pyship uses when the key is absent; "inferred" means pyship looks at the
project (Procfile, pyproject.toml, the code...) first.

Reading is strict: an unknown key, a value of the wrong type or out of range is an error naming
the file, line, column and field, and every problem of the file is reported at once.
Keys are snake_case. Durations are strings in Go syntax: "500ms", "30s", "5m", "1h30m".

Editors can validate the file with its JSON Schema (draft 2020-12, generated from the same source
as this page): run ` + "`pyship schema > pyship.schema.json`" + ` and, for Even Better TOML / taplo, put
` + "`#:schema ./pyship.schema.json`" + ` on the first line of pyship.toml.

`)
	current := "-"
	for _, f := range fs {
		if f.kind == kindTable || f.kind == kindTables {
			header := "[" + f.path + "]"
			if f.kind == kindTables {
				header = "[" + header + "]"
			}
			fmt.Fprintf(&b, "## `%s`\n\n%s\n\n", header, f.doc)
			current = f.path
			continue
		}
		if f.parent() == "" && current != "" {
			b.WriteString("## Top level\n\n")
			current = ""
		}
		writeFieldRef(&b, f)
	}
	b.WriteString(envReference)
	return b.Bytes()
}

func writeFieldRef(b *bytes.Buffer, f *field) {
	fmt.Fprintf(b, "### `%s`\n\n", f.path)
	fmt.Fprintf(b, "- Type: %s\n", f.kind.typeName())
	if a := allowedText(f); a != "" {
		fmt.Fprintf(b, "- Allowed: %s\n", a)
	}
	def := f.def
	if def == "" {
		def = "none"
	}
	fmt.Fprintf(b, "- Default: %s\n", def)
	if f.notInOverlay {
		b.WriteString("- Not allowed in an `[env.NAME]` overlay\n")
	}
	fmt.Fprintf(b, "\n%s\n\n```toml\n", f.doc)
	if p := f.parent(); isArrayTable(p) {
		fmt.Fprintf(b, "[[%s]]\n", p)
	} else if p != "" {
		fmt.Fprintf(b, "[%s]\n", p)
	}
	fmt.Fprintf(b, "%s = %s\n```\n\n", f.name(), f.example)
}

// allowedText says in words what values f accepts.
func allowedText(f *field) string {
	if f.allowed != "" {
		return f.allowed
	}
	switch {
	case len(f.enum) > 0:
		return oneOf(f.enum)
	case f.kind == kindDuration:
		return "greater than 0, at most " + formatDuration(f.maxDur)
	case f.open:
		return fmt.Sprintf("greater than %s and less than %s", num(f.min), num(f.max))
	case f.hasMin && f.hasMax:
		return fmt.Sprintf("%s to %s", num(f.min), num(f.max))
	case f.hasMin:
		return "at least " + num(f.min)
	case f.check != nil:
		return "not empty"
	}
	return ""
}

const envReference = "## `[env]`\n\n" +
	"`[env]` has two roles, told apart by the type of each value:\n\n" +
	"- a **scalar** key (string, integer, float or boolean) is an environment **variable** of the app.\n" +
	"  Its name matches `[A-Za-z_][A-Za-z0-9_]*`; numbers and booleans are passed as their string form\n" +
	"  (`DEBUG = true` gives `DEBUG=true`).\n" +
	"- a **table** key `[env.NAME]` is an environment **overlay**. NAME is a DNS-1123 label\n" +
	"  (`production`, `staging-eu`). The overlay holds any spec key except `name`; selecting the\n" +
	"  environment NAME deep-merges it over the rest of the file before validation: tables merge\n" +
	"  key by key, scalars and arrays replace. Errors in an overlay name the overlay's own lines.\n" +
	"  Inside an overlay, `[env.NAME.env]` holds variables only (overlays do not nest).\n\n" +
	"Secrets do not belong here: use `[secrets] file`.\n\n" +
	"```toml\n" +
	"[env]\n" +
	"LOG_LEVEL = \"info\"\n" +
	"WEB_CONCURRENCY = 4\n\n" +
	"[env.production]\n" +
	"deploy.replicas = 3\n\n" +
	"[env.production.run]\n" +
	"workers = 8\n\n" +
	"[env.production.env]\n" +
	"LOG_LEVEL = \"warning\"\n" +
	"```\n"

// Allowed lists the values a key of the spec accepts (e.g. "deploy.strategy"), or nil when the
// key is not limited to a list of values.
func Allowed(path string) []string {
	for _, f := range fields() {
		if f.path == path {
			return slices.Clone(f.enum)
		}
	}
	return nil
}

package spec

import (
	"encoding/json"
	"strings"
)

// Schema returns a JSON Schema (draft 2020-12) of pyship.toml, for editors that validate TOML
// against JSON Schemas (Even Better TOML / taplo: add `#:schema ./pyship.schema.json` on the
// first line, or map it in the editor settings).
func Schema() ([]byte, error) {
	fs := fields()
	root := objectSchema(fs, "", false)
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["title"] = "pyship.toml"
	root["description"] = "The spec of an app deployed by pyship: pyship.toml, or [tool.pyship] in pyproject.toml."
	root["$defs"] = map[string]any{
		"overlay":   objectSchema(fs, "", true),
		"variable":  map[string]any{"description": "An environment variable of the app; numbers and booleans are passed as their string form.", "type": []string{"string", "integer", "number", "boolean"}},
		"variables": variablesSchema(),
	}
	return json.MarshalIndent(root, "", "  ")
}

// objectSchema describes the table at parent; overlay selects what [env.NAME] may hold.
func objectSchema(fs []*field, parent string, overlay bool) map[string]any {
	props := map[string]any{}
	for _, f := range fs {
		if f.parent() != parent || (overlay && f.notInOverlay) {
			continue
		}
		if f.kind == kindTable {
			t := objectSchema(fs, f.path, overlay)
			t["description"] = f.doc
			props[f.name()] = t
			continue
		}
		if f.kind == kindTables {
			item := objectSchema(fs, f.path, false)
			item["required"] = []string{"name", "query"}
			item["anyOf"] = []any{map[string]any{"required": []string{"max"}}, map[string]any{"required": []string{"min"}}}
			props[f.name()] = map[string]any{"description": f.doc, "type": "array", "items": item}
			continue
		}
		props[f.name()] = fieldSchema(f)
	}
	if parent == "" {
		if overlay {
			props["env"] = map[string]any{"$ref": "#/$defs/variables"}
		} else {
			props["env"] = envSchema()
		}
	}
	return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
}

func fieldSchema(f *field) map[string]any {
	s := map[string]any{"description": f.doc + defaultNote(f)}
	elem := s
	switch f.kind {
	case kindString:
		s["type"] = "string"
	case kindInt:
		s["type"] = "integer"
	case kindFloat:
		s["type"] = "number"
	case kindBool:
		s["type"] = "boolean"
	case kindDuration:
		s["type"] = "string"
		s["pattern"] = durationRegexp
	case kindStrings, kindInts:
		s["type"] = "array"
		elem = map[string]any{"type": "string"}
		if f.kind == kindInts {
			elem["type"] = "integer"
		}
		s["items"] = elem
		s["uniqueItems"] = true
	}
	if len(f.enum) > 0 {
		elem["enum"] = f.enum
	}
	switch {
	case f.open:
		elem["exclusiveMinimum"], elem["exclusiveMaximum"] = f.min, f.max
	case f.hasMin:
		elem["minimum"] = f.min
	}
	if f.hasMax && !f.open {
		elem["maximum"] = f.max
	}
	if f.pattern != "" {
		elem["pattern"] = f.pattern
	}
	if f.check != nil && f.kind != kindDuration {
		elem["minLength"] = 1
	}
	if f.path == "deploy.canary.steps" {
		s["minItems"] = 1
	}
	if f.path == "notify.webhook" || f.path == "deploy.canary.prometheus_url" {
		s["format"] = "uri"
	}
	if strings.HasPrefix(f.path, "data.") || f.path == "config.dir" {
		elem["not"] = map[string]any{"pattern": `^/|(^|/)\.\.(/|$)`}
	}
	return s
}

func defaultNote(f *field) string {
	if f.def == "" {
		return ""
	}
	return " Default: " + f.def + "."
}

// Keys of [env] fall in three disjoint sets, so that each gets exactly one schema:
// variable names that cannot be overlay names, overlay names that cannot be variable names,
// and names that can be either (lowercase letters and digits, starting with a letter).
const (
	envVarOnly     = `^([A-Z_]|[a-z][a-z0-9]*[A-Z_])[A-Za-z0-9_]*$`
	envOverlayOnly = `^([0-9]([-a-z0-9]*[a-z0-9])?|[a-z][a-z0-9]*-[-a-z0-9]*[a-z0-9])$`
	envEither      = `^[a-z][a-z0-9]*$`
)

func envSchema() map[string]any {
	return map[string]any{
		"description": "Scalar keys are environment variables of the app; [env.NAME] tables are environment overlays, applied with --env NAME (e.g. pyship deploy --env prod), holding any spec keys but name.",
		"type":        "object",
		"patternProperties": map[string]any{
			envVarOnly:     map[string]any{"$ref": "#/$defs/variable"},
			envOverlayOnly: map[string]any{"$ref": "#/$defs/overlay"},
			envEither:      map[string]any{"anyOf": []any{map[string]any{"$ref": "#/$defs/variable"}, map[string]any{"$ref": "#/$defs/overlay"}}},
		},
		"additionalProperties": false,
	}
}

func variablesSchema() map[string]any {
	return map[string]any{
		"description":          "Environment variables set for the app in this environment.",
		"type":                 "object",
		"patternProperties":    map[string]any{varPattern: map[string]any{"$ref": "#/$defs/variable"}},
		"additionalProperties": false,
	}
}

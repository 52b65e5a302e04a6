package spec

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestSchema(t *testing.T) {
	raw, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" || s["additionalProperties"] != false {
		t.Errorf("root: %v %v", s["$schema"], s["additionalProperties"])
	}
	props := s["properties"].(map[string]any)
	port := props["run"].(map[string]any)["properties"].(map[string]any)["port"].(map[string]any)
	if port["type"] != "integer" || port["minimum"] != 1.0 || port["maximum"] != 65535.0 || port["description"] == "" {
		t.Errorf("run.port schema = %v", port)
	}
	if props["run"].(map[string]any)["additionalProperties"] != false {
		t.Error("[run] allows unknown keys")
	}
	kind := props["run"].(map[string]any)["properties"].(map[string]any)["kind"].(map[string]any)
	if !slices.Equal(toStrings(kind["enum"]), []string{"web", "worker"}) {
		t.Errorf("run.kind enum = %v", kind["enum"])
	}
	steps := props["deploy"].(map[string]any)["properties"].(map[string]any)["canary"].(map[string]any)["properties"].(map[string]any)["steps"].(map[string]any)
	if items := steps["items"].(map[string]any); items["minimum"] != 1.0 || items["maximum"] != 100.0 || steps["minItems"] != 1.0 {
		t.Errorf("steps = %v, want items 1-100 and at least one", steps)
	}
	overlay := s["$defs"].(map[string]any)["overlay"].(map[string]any)["properties"].(map[string]any)
	if _, ok := overlay["name"]; ok {
		t.Error("the overlay schema allows name")
	}
	if _, ok := overlay["run"]; !ok {
		t.Error("the overlay schema lacks run")
	}
	if d := props["env"].(map[string]any)["description"].(string); !strings.Contains(d, "--env NAME") || strings.Contains(d, "Load(") {
		t.Errorf("env description %q speaks Go, not the CLI", d)
	}
	pp := props["env"].(map[string]any)["patternProperties"].(map[string]any)
	if len(pp) != 3 {
		t.Fatalf("env patternProperties = %v", pp)
	}
}

// TestEnvKeyPatterns checks that every [env] key the decoder accepts matches exactly one of the
// schema's patterns, and with the right schema.
func TestEnvKeyPatterns(t *testing.T) {
	varOnly, overlayOnly, either := regexp.MustCompile(envVarOnly), regexp.MustCompile(envOverlayOnly), regexp.MustCompile(envEither)
	for _, k := range []string{"DEBUG", "_x", "aB", "a_b", "production", "staging-eu", "1", "1a-b", "x9", "a-", "-a", "A-B", "9_a"} {
		v, o := isVarName(k), isLabel(k)
		got := []bool{varOnly.MatchString(k), overlayOnly.MatchString(k), either.MatchString(k)}
		want := []bool{v && !o, o && !v, v && o}
		if !slices.Equal(got, want) {
			t.Errorf("%q: patterns (var-only, overlay-only, either) = %v, want %v", k, got, want)
		}
	}
}

func toStrings(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

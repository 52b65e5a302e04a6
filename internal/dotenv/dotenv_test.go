package dotenv

import (
	"maps"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	long := strings.Repeat("x", 100_000) // longer than bufio.Scanner's default line
	got, err := Parse("prod.env", "# comment\n\nA=1\nexport B = two words \nC=\"quoted # not a comment\"\nD='pa$$word'\nE=\nF="+long+"\r\n")
	want := map[string]string{"A": "1", "B": "two words", "C": "quoted # not a comment", "D": "pa$$word", "E": "", "F": long}
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("Parse = %v, %v", got, err)
	}
	for _, bad := range []string{"A=1\nnot a pair\n", "=value\n", "  = v\n"} {
		if _, err := Parse("prod.env", bad); err == nil || !strings.Contains(err.Error(), "prod.env:") || !strings.Contains(err.Error(), "expected KEY=value") {
			t.Errorf("Parse(%q) = %v, want an error naming the line", bad, err)
		}
	}
	if _, err := Read("/nonexistent/prod.env"); err == nil || !strings.Contains(err.Error(), "[secrets] file") {
		t.Errorf("Read of a missing file: %v", err)
	}
}

// The rules docker compose reads env files by, with $ as an ordinary character; what readers
// disagree on is refused, naming the line.
func TestParseAsComposeWithoutInterpolation(t *testing.T) {
	for text, want := range map[string]map[string]string{
		"A=1 # comment\nB=x#y\n":                              {"A": "1", "B": "x#y"},
		"A=\"x # y\" # comment\nB='z'#c\n":                    {"A": "x # y", "B": "z"},
		`A="a\nb\"c\\d"` + "\n":                               {"A": "a\nb\"c\\d"},
		"A='a\\nb'\n":                                         {"A": `a\nb`},
		"KEY=\"-----BEGIN-----\nMIIB\n-----END-----\"\nB=2\n": {"KEY": "-----BEGIN-----\nMIIB\n-----END-----", "B": "2"},
		"A=pa$$word\nB=\"$HOME\"\nC=${X}\n":                   {"A": "pa$$word", "B": "$HOME", "C": "${X}"},
	} {
		if got, err := Parse("test.env", text); err != nil || !maps.Equal(got, want) {
			t.Errorf("Parse(%q) = %q, %v; want %q", text, got, err, want)
		}
	}
	for text, want := range map[string]string{
		"A=1\nB=\"x\" y\n":     "test.env:2: text after the closing quote",
		"A=\"a\\tb\"\n":        `test.env:1: \t in double quotes`,
		"A=a #b #c\n":          "test.env:1: an unquoted value with two blank-# comments",
		"A=1\nB=\"open\nC=2\n": "test.env:2: the value in double quotes is not closed",
		"A=x\x00y\n":           "test.env:1: a control character (U+0000)",
		"A=1\nB=\xff\n":        "test.env:2: not UTF-8 text",
		"A B=1\n":              `test.env:1: expected KEY=value, and the key "A B" is not letters`,
		"A=1\n\nA: 1\n":        "test.env:3: expected KEY=value",
		"A='it\\'s'\n":         "test.env:1: a value in single quotes cannot hold '",
		"A= # nothing?\n":      "test.env:1: a value starting with # after blanks",
		"A=\"secret\\\\\"\n":   `test.env:1: a value in double quotes ending in \\`,
	} {
		if _, err := Parse("test.env", text); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Parse(%q): error %v, want one starting %q", text, err, want)
		}
	}
}

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

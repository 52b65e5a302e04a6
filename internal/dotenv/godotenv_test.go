package dotenv

import (
	"maps"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/joho/godotenv"
)

// The reader is checked against github.com/joho/godotenv, the Go library most dotenv files
// are read with, on every input without a $ (godotenv expands $VAR, which would change secrets
// holding a $; see the package doc): either both read the same variables, or pyship refuses
// the file with a file:line error. The seeds are the fuzz corpus, run by plain go test.
var godotenvSeeds = []string{
	"",
	"A=1\n",
	"# comment\n\nA=1\nexport B = two words \n",
	"A=1 # comment\nB=2\t# tab comment\nC=3#not a comment\n",
	"A=a #b #c\n",
	"A= #x\n",
	"A=#x\n",
	"A=\"quoted # not a comment\" # comment\nB='single' #c\nC=\"x\"#c\n",
	"A=\"x\" y\n",
	"A=\"line1\nline2\"\nB=2\n",
	"A='line1\nB=2'\n",
	"A=\"a\\nb\\rc\\\"d\\\\e\"\n",
	"A=\"a\\tb\"\n",
	"A=\"a\\\\\"\n",
	"A=\"a\\\"\"\n",
	"A='a\\'b'\n",
	"A='a\\nb'\n",
	"A=\"unterminated\nB=2\n",
	"A='unterminated\n",
	"A=\"\"\nB=''\nC=\nD=   \n",
	"A=b=c\nA=again\n",
	"A B=1\n",
	"A:1\n",
	"A: 1\n",
	"=1\n",
	"  = v\n",
	"not a pair\n",
	"export\n",
	"export=1\n",
	"exportA=1\n",
	"export  \tA=1\n",
	"1A=1\n",
	"A.B_C=1\n",
	"A-B=1\n",
	"A=1\r\nB=2\r\n",
	"A=1\rB=2\n",
	"A=x\x00y\n",
	"A=\xff\n",
	"\ufeffA=1\n",
	"\u00a0A\u00a0=\u00a0x\u00a0#c\n",
	"A=x\u2003\n",
	"\u2003A=1\n",
	"A=\"x\"\"\n",
	"A=\"\"x\"\n",
	"A=\"\\\"x\"\n",
	"A='x\n\ny'\n",
	"A=\"x\\\ny\"\n",
	"A=ünïcödé\nB=\"日本\"\n",
	"KEY=-----BEGIN KEY-----\nabc\n",
	"PEM=\"-----BEGIN KEY-----\nMIIB\n-----END KEY-----\"\n",
}

// agreesWithGodotenv fails t unless Parse(text) reads what godotenv reads, or refuses with
// a name:line error whose line is in the text.
func agreesWithGodotenv(t *testing.T, text string) {
	t.Helper()
	got, err := Parse("test.env", text)
	if err != nil {
		m := regexp.MustCompile(`^test\.env:(\d+): \S`).FindStringSubmatch(err.Error())
		if m == nil {
			t.Fatalf("Parse(%q): error %q does not start with test.env:LINE:", text, err)
		}
		if n, _ := strconv.Atoi(m[1]); n < 1 || n > strings.Count(text, "\n")+1 {
			t.Fatalf("Parse(%q): error %q names a line the text does not have", text, err)
		}
		return
	}
	want, gerr := godotenv.Unmarshal(text)
	if gerr != nil {
		t.Fatalf("Parse(%q) = %q, but godotenv refuses it: %v", text, got, gerr)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("Parse(%q) = %q, godotenv reads %q", text, got, want)
	}
}

func TestParseAgreesWithGodotenv(t *testing.T) {
	for _, text := range godotenvSeeds {
		agreesWithGodotenv(t, text)
	}
}

func FuzzParseAgreesWithGodotenv(f *testing.F) {
	for _, text := range godotenvSeeds {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if strings.Contains(text, "$") {
			t.Skip("godotenv expands $VAR")
		}
		agreesWithGodotenv(t, text)
	})
}

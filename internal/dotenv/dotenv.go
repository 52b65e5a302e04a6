package dotenv

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Read parses the dotenv file path by Parse's rules. A missing file is an error naming it and
// the spec key.
func Read(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the secrets file %s ([secrets] file): %w", path, err)
	}
	return Parse(path, string(b))
}

// Parse reads text as docker compose reads an env file, without interpolation; name is the
// file name its errors give (name:line, never a value, which may be a secret):
//
//   - one KEY=value a line (an optional leading "export "); blank lines and lines starting
//     with # are skipped; KEY is letters, digits, _ and ., not starting with a digit;
//   - an unquoted value is trimmed, and a # after a blank starts a comment;
//   - a value in single quotes is taken as written; a value in double quotes knows the
//     escapes \n, \r, \" and \\; either may span lines, and only a comment may follow it;
//   - $ is an ordinary character: no $VAR or ${VAR} expansion.
//
// Whatever compose's and godotenv's readers would take differently is refused: another
// escape, two " #" in an unquoted value, text after a closing quote, control characters,
// text that is not UTF-8.
func Parse(name, text string) (map[string]string, error) {
	p := parser{name: name, src: strings.ReplaceAll(text, "\r\n", "\n")}
	if !utf8.ValidString(p.src) {
		i := 0
		for r, n := utf8.DecodeRuneInString(p.src); r != utf8.RuneError || n != 1; r, n = utf8.DecodeRuneInString(p.src[i:]) {
			i += n
		}
		return nil, fmt.Errorf("%s:%d: not UTF-8 text: save the file as UTF-8", name, 1+strings.Count(p.src[:i], "\n"))
	}
	out := map[string]string{}
	for p.src != "" {
		k, v, err := p.entry()
		if err != nil {
			return nil, err
		}
		if k != "" {
			out[k] = v
		}
	}
	return out, nil
}

// parser reads the text still in src, which starts on line line+1.
type parser struct {
	name string
	src  string
	line int
}

var keyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

// nextLine takes the next line of src, refusing one holding a control character.
func (p *parser) nextLine() (string, error) {
	l, rest, _ := strings.Cut(p.src, "\n")
	p.src, p.line = rest, p.line+1
	if i := strings.IndexFunc(l, func(r rune) bool { return r != '\t' && unicode.IsControl(r) }); i >= 0 {
		return "", p.errorf("a control character (%U): remove it, or write it as \\n or \\r in double quotes", []rune(l[i:])[0])
	}
	return l, nil
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.name, p.line, fmt.Sprintf(format, args...))
}

// blank is what is trimmed around keys and values (as godotenv trims).
func blank(r rune) bool { return r == ' ' || r == '\t' || r == '\u00a0' }

// entry reads the next line and the lines a quoted value spans: a key and its value, or ""
// for a blank or comment line.
func (p *parser) entry() (string, string, error) {
	l, err := p.nextLine()
	if err != nil {
		return "", "", err
	}
	l = strings.TrimLeftFunc(l, blank)
	if l == "" || l[0] == '#' {
		return "", "", nil
	}
	if rest, ok := strings.CutPrefix(l, "export"); ok && strings.IndexFunc(rest, blank) == 0 {
		l = strings.TrimLeftFunc(rest, blank)
	}
	k, v, ok := strings.Cut(l, "=")
	if !ok {
		return "", "", p.errorf("expected KEY=value")
	}
	if k = strings.TrimRightFunc(k, blank); !keyRE.MatchString(k) {
		if k == "" {
			return "", "", p.errorf("expected KEY=value, and the key is empty")
		}
		return "", "", p.errorf("expected KEY=value, and the key %q is not letters, digits, _ and . (not starting with a digit)", k)
	}
	trimmed := strings.TrimLeftFunc(v, blank)
	switch {
	case strings.HasPrefix(trimmed, `"`):
		v, err = p.doubleQuoted(trimmed[1:])
	case strings.HasPrefix(trimmed, "'"):
		v, err = p.singleQuoted(trimmed[1:])
	default:
		v, err = p.unquoted(trimmed, trimmed != v)
	}
	return k, v, err
}

// unquoted is a value without quotes: trimmed, up to a # after a blank. afterBlank says that
// blanks came between = and v.
func (p *parser) unquoted(v string, afterBlank bool) (string, error) {
	if afterBlank && strings.HasPrefix(v, "#") {
		return "", p.errorf("a value starting with # after blanks is read as a value by some readers, as a comment by others: quote it, or write KEY= for an empty value")
	}
	cut := -1
	for i := 1; i < len(v); i++ {
		if r, _ := utf8.DecodeLastRuneInString(v[:i]); v[i] == '#' && blank(r) {
			if cut >= 0 {
				return "", p.errorf("an unquoted value with two blank-# comments: quote the value if # is part of it")
			}
			cut = i
		}
	}
	if cut >= 0 {
		v = v[:cut]
	}
	return strings.TrimRightFunc(v, blank), nil
}

// singleQuoted is the value after an opening ', taken as written up to the closing '.
func (p *parser) singleQuoted(s string) (string, error) {
	start := p.line
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			if p.src == "" {
				return "", fmt.Errorf("%s:%d: the value in single quotes is not closed: add the closing '", p.name, start)
			}
			b.WriteString(s)
			b.WriteByte('\n')
			var err error
			if s, err = p.nextLine(); err != nil {
				return "", err
			}
			continue
		}
		if i > 0 && s[i-1] == '\\' {
			return "", p.errorf(`a value in single quotes cannot hold ' (\' is not an escape there): put the value in double quotes and write \"`)
		}
		b.WriteString(s[:i])
		return b.String(), p.afterQuote(s[i+1:])
	}
}

// doubleQuoted is the value after an opening ", with its escapes, up to the closing ".
func (p *parser) doubleQuoted(s string) (string, error) {
	start := p.line
	var b strings.Builder
	var lastEscape byte // the escape just written, 0 after other text
	for {
		i := strings.IndexAny(s, `"\`)
		if i < 0 {
			if p.src == "" {
				return "", fmt.Errorf(`%s:%d: the value in double quotes is not closed: add the closing "`, p.name, start)
			}
			b.WriteString(s)
			b.WriteByte('\n')
			lastEscape = 0
			var err error
			if s, err = p.nextLine(); err != nil {
				return "", err
			}
			continue
		}
		if i > 0 {
			b.WriteString(s[:i])
			lastEscape = 0
		}
		if s[i] == '"' {
			// godotenv ends the value at the next " after \\, and drops a " that ends it:
			// refused, rather than read differently.
			if lastEscape == '\\' || lastEscape == '"' {
				return "", p.errorf(`a value in double quotes ending in \%c: some readers read it differently; put the value in single quotes`, lastEscape)
			}
			return b.String(), p.afterQuote(s[i+1:])
		}
		if i+1 == len(s) {
			return "", p.errorf(`a \ at the end of a line in double quotes: write \\ for a backslash, \n for a new line`)
		}
		switch c := s[i+1]; c {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case '"', '\\':
			b.WriteByte(c)
		default:
			r, _ := utf8.DecodeRuneInString(s[i+1:])
			return "", p.errorf(`\%c in double quotes: the escapes are \n, \r, \" and \\ (readers disagree on others); write the character itself, or put the value in single quotes`, r)
		}
		lastEscape, s = s[i+1], s[i+2:]
	}
}

// afterQuote checks what follows a closing quote on its line: blanks, then a comment.
func (p *parser) afterQuote(rest string) error {
	if rest = strings.TrimLeftFunc(rest, blank); rest != "" && rest[0] != '#' {
		return p.errorf("text after the closing quote: only a # comment may follow a quoted value")
	}
	return nil
}

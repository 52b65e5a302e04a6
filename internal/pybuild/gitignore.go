package pybuild

import (
	"regexp"
	"strings"
)

// ignoreFile is the patterns of one .gitignore (or a list of gitignore-style patterns),
// which apply to paths below base.
type ignoreFile struct {
	base     string // slash-separated folder relative to the app root; "" for the root
	patterns []gitPattern
}

// gitPattern is one compiled gitignore line.
type gitPattern struct {
	re      *regexp.Regexp
	negate  bool // "!pattern": re-include
	dirOnly bool // "pattern/": folders only
}

// parseGitignore compiles the lines of a .gitignore in folder base, following gitignore(5):
// comments, "!" negation, trailing "/" for folders, a leading or inner "/" anchoring the
// pattern to base, "*", "?", "[...]" and "**" wildcards, and "\" escapes.
func parseGitignore(base string, lines []string) *ignoreFile {
	f := &ignoreFile{base: base}
	for _, line := range lines {
		if p, ok := compileGitPattern(line); ok {
			f.patterns = append(f.patterns, p)
		}
	}
	return f
}

func compileGitPattern(line string) (gitPattern, bool) {
	var p gitPattern
	line = strings.TrimSuffix(line, "\r")
	line = trimUnescapedSpaces(line)
	if line == "" || line[0] == '#' {
		return p, false
	}
	if line[0] == '!' {
		p.negate = true
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") {
		p.dirOnly = true
		line = strings.TrimRight(line, "/")
	}
	if line == "" {
		return p, false
	}
	anchored := strings.Contains(line, "/")
	line = strings.TrimPrefix(line, "/")

	var re strings.Builder
	re.WriteString("^")
	if !anchored {
		re.WriteString("(?:.*/)?")
	}
	segs := strings.Split(line, "/")
	for i, seg := range segs {
		last := i == len(segs)-1
		if seg == "**" {
			if last {
				re.WriteString(".*")
			} else {
				re.WriteString("(?:.*/)?")
			}
			continue
		}
		re.WriteString(globSegment(seg))
		if !last {
			re.WriteString("/")
		}
	}
	re.WriteString("$")
	compiled, err := regexp.Compile(re.String())
	if err != nil {
		return p, false // cannot happen for the expressions built above; git skips bad lines too
	}
	p.re = compiled
	return p, true
}

// trimUnescapedSpaces removes trailing spaces that are not escaped with a backslash.
func trimUnescapedSpaces(s string) string {
	for strings.HasSuffix(s, " ") && !strings.HasSuffix(s, `\ `) {
		s = s[:len(s)-1]
	}
	return s
}

// globSegment turns one path segment of a glob into a regular expression that never matches "/".
func globSegment(seg string) string {
	var b strings.Builder
	rs := []rune(seg)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '*':
			b.WriteString("[^/]*")
		case '?':
			b.WriteString("[^/]")
		case '\\':
			if i+1 < len(rs) {
				i++
				b.WriteString(regexp.QuoteMeta(string(rs[i])))
			} else {
				b.WriteString(`\\`)
			}
		case '[':
			class, n, ok := globClass(rs[i:])
			if !ok {
				b.WriteString(`\[`)
				continue
			}
			b.WriteString(class)
			i += n - 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// globClass converts the bracket expression at the start of rs ("[a-z]", "[!abc]", "[]x]")
// and returns it with the number of runes it used; ok is false when it is not closed.
func globClass(rs []rune) (class string, n int, ok bool) {
	i := 1
	negate := false
	if i < len(rs) && (rs[i] == '!' || rs[i] == '^') {
		negate = true
		i++
	}
	var b strings.Builder
	first := true
	for ; i < len(rs); i++ {
		c := rs[i]
		if c == ']' && !first {
			if negate {
				return "[^/" + b.String() + "]", i + 1, true
			}
			return "(?:[" + b.String() + "])", i + 1, true
		}
		first = false
		switch {
		case c == '\\' && i+1 < len(rs):
			i++
			b.WriteString(classChar(rs[i]))
		case c == '-':
			b.WriteRune('-')
		default:
			b.WriteString(classChar(c))
		}
	}
	return "", 0, false
}

// match reports whether the pattern list decides about rel (relative to the app root), and
// if so whether it is ignored. The last matching pattern wins.
func (f *ignoreFile) match(rel string, isDir bool) (decided, ignored bool) {
	if f.base != "" {
		rest, ok := strings.CutPrefix(rel, f.base+"/")
		if !ok {
			return false, false
		}
		rel = rest
	}
	for i := len(f.patterns) - 1; i >= 0; i-- {
		p := f.patterns[i]
		if p.dirOnly && !isDir {
			continue
		}
		if p.re.MatchString(rel) {
			return true, !p.negate
		}
	}
	return false, false
}

// ignoredBy reports whether rel is ignored by a stack of ignore files ordered from the root
// down: a deeper file overrides a shallower one.
func ignoredBy(stack []*ignoreFile, rel string, isDir bool) bool {
	for i := len(stack) - 1; i >= 0; i-- {
		if decided, ignored := stack[i].match(rel, isDir); decided {
			return ignored
		}
	}
	return false
}

// classChar is c written literally inside a regular expression's character class.
func classChar(c rune) string {
	if c < 0x80 && !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
		return `\` + string(c)
	}
	return string(c)
}

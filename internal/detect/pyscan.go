package detect

import (
	"strings"
)

// tokKind is the kind of a lexical Python token.
type tokKind int

const (
	tokName tokKind = iota
	tokString
	tokNumber
	tokOp
)

// token is one lexical Python token. Strings hold their unquoted text (escapes are not
// interpreted); comments are dropped.
type token struct {
	kind tokKind
	text string
	line int
	// first is true for the first token of a logical line; indent is that line's indentation.
	first  bool
	indent int
}

// tokenize splits Python source into tokens. It is lexical only: good enough to find
// assignments, calls, definitions and string literals without running Python.
func tokenize(src string) []token {
	var toks []token
	line, depth := 1, 0
	atLineStart, indent := true, 0
	i := 0
	n := len(src)
	emit := func(k tokKind, text string, ln int) {
		toks = append(toks, token{kind: k, text: text, line: ln, first: atLineStart && depth == 0, indent: indent})
		atLineStart = false
	}
	for i < n {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
			if depth == 0 {
				atLineStart, indent = true, 0
				// measure the next line's indentation
				j := i
				for j < n && (src[j] == ' ' || src[j] == '\t') {
					j++
				}
				indent = j - i
			}
		case c == '\\' && i+1 < n && src[i+1] == '\n':
			i += 2
			line++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			i++
		case c == '#':
			for i < n && src[i] != '\n' {
				i++
			}
		case isStringStart(src, i):
			start := line
			j := i
			for j < n && src[j] != '\'' && src[j] != '"' {
				j++
			}
			text, end, nl := readString(src, j)
			emit(tokString, text, start)
			line += nl
			i = end
		case isIdentStart(c):
			j := i
			for j < n && isIdentChar(src[j]) {
				j++
			}
			emit(tokName, src[i:j], line)
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < n && (isIdentChar(src[j]) || src[j] == '.') {
				j++
			}
			emit(tokNumber, src[i:j], line)
			i = j
		default:
			if c == '(' || c == '[' || c == '{' {
				emit(tokOp, string(c), line)
				depth++
			} else if c == ')' || c == ']' || c == '}' {
				emit(tokOp, string(c), line)
				if depth > 0 {
					depth--
				}
			} else if c == '=' && i+1 < n && src[i+1] == '=' {
				emit(tokOp, "==", line)
				i++
			} else if c >= 0x80 {
				// non-ASCII identifiers: treat as part of a name
				j := i
				for j < n && (src[j] >= 0x80 || isIdentChar(src[j])) {
					j++
				}
				emit(tokName, src[i:j], line)
				i = j
				continue
			} else {
				emit(tokOp, string(c), line)
			}
			i++
		}
	}
	return toks
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// isStringStart reports whether a string literal (with an optional r/b/u/f prefix) starts at i.
func isStringStart(src string, i int) bool {
	if i > 0 && isIdentChar(src[i-1]) {
		return false
	}
	for j := i; j < len(src) && j < i+3; j++ {
		switch src[j] {
		case '\'', '"':
			return true
		case 'r', 'R', 'b', 'B', 'u', 'U', 'f', 'F':
			continue
		default:
			return false
		}
	}
	return false
}

// readString reads the literal whose quote starts at i; it returns its text, the index after
// it and the number of newlines it spans.
func readString(src string, i int) (string, int, int) {
	q := src[i]
	triple := strings.HasPrefix(src[i:], strings.Repeat(string(q), 3))
	j := i + 1
	if triple {
		j = i + 3
	}
	start, nl := j, 0
	for j < len(src) {
		c := src[j]
		switch {
		case c == '\\' && j+1 < len(src):
			if src[j+1] == '\n' {
				nl++
			}
			j += 2
			continue
		case c == '\n':
			if !triple { // unterminated: stop at the end of the line
				return src[start:j], j, nl
			}
			nl++
		case c == q:
			if !triple {
				return src[start:j], j + 1, nl
			}
			if strings.HasPrefix(src[j:], strings.Repeat(string(q), 3)) {
				return src[start:j], j + 3, nl
			}
		}
		j++
	}
	return src[start:], len(src), nl
}

package spec

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a spec file: where it is, which field, what is wrong and how to fix it.
type Error struct {
	// File is the spec file as given to Load or Parse, e.g. "pyship.toml" or "/app/pyproject.toml".
	File string
	// Line and Col are 1-based; 0 when the problem is not about one place.
	Line, Col int
	// Field is the dotted field path, e.g. "run.port" or "env.production.run.port".
	Field string
	// Msg says what is wrong and what is allowed.
	Msg string
	// Hint is a suggestion, e.g. `did you mean "port"?`; "" when there is none.
	Hint string
}

// Error formats the problem as "file:line:col: field: msg", followed by an indented hint line.
func (e *Error) Error() string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

func (e *Error) write(b *strings.Builder) {
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(b, ":%d", e.Line)
			if e.Col > 0 {
				fmt.Fprintf(b, ":%d", e.Col)
			}
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString("\n    hint: ")
		b.WriteString(e.Hint)
	}
}

// Errors are all the problems found in a spec file, in file order. Load and Parse return an
// Errors value (not a pointer) as their error; use errors.As(err, &errs) to get at each one.
type Errors []*Error

// Error lists every problem, one per line (plus a hint line where there is one).
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		e.write(&b)
	}
	return b.String()
}

// Unwrap gives each *Error, so that errors.As(err, &e) with e a *Error finds the first one.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sorted orders the errors by file, line and column and drops exact duplicates.
func (es Errors) sorted() Errors {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	return slices.CompactFunc(out, func(a, b *Error) bool { return *a == *b })
}

// errAt builds an error at a position.
func errAt(p Pos, field, hint, format string, args ...any) *Error {
	return &Error{File: p.File, Line: p.Line, Col: p.Col, Field: field, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// suggest returns the candidate closest to word, or "" when none is close enough to be a
// plausible typo. Case, '-' and '_' are ignored first ("startupTimeout" → "startup_timeout").
func suggest(word string, candidates []string) string {
	norm := func(s string) string {
		return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(s))
	}
	best, bestDist := "", -1
	for _, c := range candidates {
		d := editDistance(norm(word), norm(c))
		if d == 0 || (len(word) >= 3 && strings.HasPrefix(norm(c), norm(word))) {
			return c
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := max(2, len(word)/3)
	if bestDist < 0 || bestDist > limit || bestDist >= len(word) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, counted in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// quoteList formats names as `"a", "b" or "c"`.
func quoteList(names []string, conj string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	switch len(q) {
	case 0:
		return ""
	case 1:
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + conj + " " + q[len(q)-1]
}

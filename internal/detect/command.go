package detect

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// SplitCommand splits a shell-like command line into argv: single and double quotes group,
// backslash escapes, and $NAME becomes ${NAME} so the target expands it (os.Expand) before exec.
func SplitCommand(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\\' && i+1 < len(s) && quote != '\'':
			i++
			cur.WriteByte(s[i])
			inArg = true
		case quote == '"':
			if c == '"' {
				quote = 0
			} else if c == '$' {
				i = writeVar(&cur, s, i)
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inArg = c, true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		case c == '$':
			i = writeVar(&cur, s, i)
			inArg = true
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}

// writeVar writes the variable reference at s[i] ('$') as ${NAME} and returns the index of
// its last byte.
func writeVar(b *strings.Builder, s string, i int) int {
	if i+1 < len(s) && s[i+1] == '{' {
		if j := strings.IndexByte(s[i:], '}'); j > 0 {
			b.WriteString(s[i : i+j+1])
			return i + j
		}
	}
	j := i + 1
	for j < len(s) && isIdentChar(s[j]) {
		j++
	}
	if j == i+1 {
		b.WriteByte('$')
		return i
	}
	b.WriteString("${" + s[i+1:j] + "}")
	return j - 1
}

var plainArgRe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./${}-]+$`)

// JoinCommand renders argv as one shell-like line that SplitCommand reads back.
func JoinCommand(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if plainArgRe.MatchString(a) {
			out[i] = a
		} else if !strings.ContainsAny(a, `"\`) {
			out[i] = `"` + a + `"`
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// BindPort finds the port a server command binds: -b/--bind host:port, --port N, -p N
// (uvicorn, hypercorn, daphne, waitress-serve --listen/--port, manage.py runserver ADDR).
// usesEnv is true when the bind is ${PORT}; port is 0 when the command binds nothing literal.
func BindPort(argv []string) (port int, usesEnv bool) {
	val := func(i int, a string) (string, bool) {
		if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(k, "-") {
			return v, true
		}
		if i+1 < len(argv) {
			return argv[i+1], true
		}
		return "", false
	}
	parse := func(v string) (int, bool) {
		if strings.Contains(v, "${PORT}") || strings.Contains(v, "$PORT") {
			return 0, true
		}
		if i := strings.LastIndex(v, ":"); i >= 0 {
			v = v[i+1:]
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return 0, false
		}
		return n, false
	}
	runserver := false
	for i, a := range argv {
		key, _, _ := strings.Cut(a, "=")
		switch key {
		case "-b", "--bind", "--port", "-p", "--listen":
			if v, ok := val(i, a); ok {
				return parse(v)
			}
		case "runserver":
			runserver = true
		default:
			if runserver && !strings.HasPrefix(a, "-") {
				return parse(a)
			}
		}
	}
	return 0, false
}

// ServerCommand is the start command for application app ("module:attr", or
// "module:factory()" for a factory) served by server ("gunicorn" or "uvicorn").
func ServerCommand(server, app string, workers int) []string {
	w := strconv.Itoa(workers)
	switch server {
	case "gunicorn":
		return []string{"gunicorn", "--bind", "0.0.0.0:${PORT}", "--workers", w, app}
	case "uvicorn":
		argv := []string{"uvicorn", "--host", "0.0.0.0", "--port", "${PORT}", "--workers", w}
		if strings.HasSuffix(app, "()") {
			argv = append(argv, "--factory")
			app = strings.TrimSuffix(app, "()")
		}
		return append(argv, app)
	}
	return nil
}

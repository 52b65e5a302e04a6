package detect

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
)

// reqOptionsWithValue are pip options of requirements files that take a value and are kept
// for the install (normalised to their long form).
var reqOptionsWithValue = map[string]string{
	"-i": "--index-url", "--index-url": "--index-url", "--extra-index-url": "--extra-index-url",
	"-f": "--find-links", "--find-links": "--find-links", "--trusted-host": "--trusted-host",
	"--no-binary": "--no-binary", "--only-binary": "--only-binary",
}

// reqFlags are pip options without a value that are kept.
var reqFlags = map[string]bool{"--pre": true, "--no-index": true, "--prefer-binary": true}

// reqParser reads a requirements file and the files it includes.
type reqParser struct {
	p     *Project
	deps  *Dependencies
	stack []string // files being read, for cycle detection
	seen  map[string]bool
	// hashed and unhashed are "name (file:line)" of requirements with and without --hash.
	hashed, unhashed []string
}

func (p *Project) parseRequirementsFile() (Dependencies, error) {
	d := Dependencies{}
	rp := &reqParser{p: p, deps: &d, seen: map[string]bool{}}
	if err := rp.read("requirements.txt", false, "", 0); err != nil {
		return d, err
	}
	d.Evidence = Evidence{File: "requirements.txt", Rule: "requirements.txt"}
	if len(rp.hashed) > 0 && len(rp.unhashed) > 0 {
		missing := rp.unhashed
		if len(missing) > 3 {
			missing = append(missing[:3:3], fmt.Sprintf("and %d more", len(rp.unhashed)-3))
		}
		have := "has"
		if len(rp.unhashed) > 1 {
			have = "have"
		}
		p.warnf("requirements: %s has --hash but %s %s none: one hash turns on pip's require-hashes mode, which then refuses every requirement without one and the install fails; give every requirement its hashes (e.g. pip-compile --generate-hashes) or remove them all",
			rp.hashed[0], strings.Join(missing, ", "), have)
	}
	return d, nil
}

// read parses file rel (relative to the project); constraints marks a -c file.
func (rp *reqParser) read(rel string, constraints bool, from string, fromLine int) error {
	for i, s := range rp.stack {
		if s == rel {
			chain := append(append([]string(nil), rp.stack[i:]...), rel)
			return fmt.Errorf("%s:%d: requirements include cycle %s; remove one of these -r/-c lines", from, fromLine, strings.Join(chain, " -> "))
		}
	}
	text, err := rp.p.readText(rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && from != "" {
			return fmt.Errorf("%s:%d: included file %s does not exist; fix the path (it is relative to %s)", from, fromLine, rel, from)
		}
		return fmt.Errorf("reading %s: %w", rel, err)
	}
	rp.stack = append(rp.stack, rel)
	defer func() { rp.stack = rp.stack[:len(rp.stack)-1] }()
	for _, ll := range logicalLines(text) {
		if err := rp.line(rel, ll.line, ll.text, constraints); err != nil {
			return err
		}
	}
	return nil
}

type logicalLine struct {
	line int
	text string
}

// logicalLines joins continuation lines and strips comments (a # at the start or after
// whitespace), as pip does.
func logicalLines(text string) []logicalLine {
	var out []logicalLine
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if cur.Len() == 0 {
			start = i + 1
		}
		l := stripComment(raw)
		if strings.HasSuffix(l, `\`) {
			cur.WriteString(strings.TrimSuffix(l, `\`))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(l)
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, logicalLine{start, s})
		}
		cur.Reset()
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, logicalLine{start, s})
	}
	return out
}

func stripComment(l string) string {
	for i := 0; i < len(l); i++ {
		if l[i] == '#' && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t') {
			return strings.TrimRight(l[:i], " \t")
		}
	}
	return strings.TrimRight(l, " \t")
}

// line handles one logical line of file rel.
func (rp *reqParser) line(rel string, ln int, s string, constraints bool) error {
	fields := strings.Fields(s)
	opt, val, hasVal := strings.Cut(fields[0], "=")
	if !strings.HasPrefix(opt, "-") {
		return rp.requirement(rel, ln, s, constraints)
	}
	value := func() (string, error) {
		if hasVal {
			return val, nil
		}
		if len(fields) > 1 {
			return fields[1], nil
		}
		// short options may be glued: -rbase.txt
		if len(opt) > 2 && opt[1] != '-' {
			return opt[2:], nil
		}
		return "", fmt.Errorf("%s:%d: option %s needs a value; write e.g. %s VALUE", rel, ln, opt, opt)
	}
	short := opt
	if len(opt) > 2 && opt[1] != '-' {
		short = opt[:2]
	}
	switch short {
	case "-r", "--requirement", "-c", "--constraint":
		v, err := value()
		if err != nil {
			return err
		}
		inc := path.Clean(path.Join(path.Dir(rel), v))
		if strings.HasPrefix(inc, "../") || path.IsAbs(v) {
			return fmt.Errorf("%s:%d: %s %s points outside the project; copy it into the project so the build can read it", rel, ln, short, v)
		}
		return rp.read(inc, constraints || short == "-c" || short == "--constraint", rel, ln)
	case "-e", "--editable":
		v, _ := value()
		rp.p.warnf("%s:%d: editable requirement %q is not installed into the image; list it as a normal requirement or publish it as a package", rel, ln, v)
		return nil
	}
	if long, ok := reqOptionsWithValue[short]; ok {
		v, err := value()
		if err != nil {
			return err
		}
		rp.addOption(long, v)
		return nil
	}
	if reqFlags[opt] {
		rp.addOption(opt, "")
		return nil
	}
	rp.p.warnf("%s:%d: pip option %s is ignored by pyship; remove it or pass it another way", rel, ln, opt)
	return nil
}

func (rp *reqParser) addOption(opt, val string) {
	for i := 0; i < len(rp.deps.PipOptions); i++ {
		if rp.deps.PipOptions[i] == opt && (val == "" || i+1 < len(rp.deps.PipOptions) && rp.deps.PipOptions[i+1] == val) {
			return
		}
	}
	rp.deps.PipOptions = append(rp.deps.PipOptions, opt)
	if val != "" {
		rp.deps.PipOptions = append(rp.deps.PipOptions, val)
	}
}

// requirement handles a requirement line with its per-requirement options (--hash).
func (rp *reqParser) requirement(rel string, ln int, s string, constraints bool) error {
	var hashes []string
	var keep []string
	fields := strings.Fields(s)
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		switch {
		case strings.HasPrefix(f, "--hash="):
			hashes = append(hashes, strings.TrimPrefix(f, "--hash="))
		case f == "--hash" && i+1 < len(fields):
			hashes = append(hashes, fields[i+1])
			i++
		case strings.HasPrefix(f, "--"):
			rp.p.warnf("%s:%d: per-requirement option %s is ignored by pyship", rel, ln, f)
		default:
			keep = append(keep, f)
		}
	}
	spec := strings.Join(keep, " ")
	if isLocalRequirement(spec) {
		rp.p.warnf("%s:%d: local or URL requirement %q is not installed into the image; use \"name @ URL\" or publish it as a package", rel, ln, spec)
		return nil
	}
	r, ok := parseRequirement(spec)
	if !ok {
		return fmt.Errorf("%s:%d: %q is not a requirement (expected e.g. flask==3.0.0); fix or remove the line", rel, ln, spec)
	}
	r.Hashes = hashes
	if constraints {
		rp.deps.Constraints = append(rp.deps.Constraints, r)
		return nil
	}
	key := r.Spec
	if rp.seen[key] {
		return nil
	}
	rp.seen[key] = true
	where := fmt.Sprintf("%s (%s:%d)", r.Name, rel, ln)
	if len(hashes) > 0 {
		rp.hashed = append(rp.hashed, where)
	} else {
		rp.unhashed = append(rp.unhashed, where)
	}
	rp.deps.Requirements = append(rp.deps.Requirements, r)
	return nil
}

var nameAtRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@`)

// isLocalRequirement reports whether s is a path or a bare URL rather than a PEP 508 requirement.
func isLocalRequirement(s string) bool {
	if nameAtRe.MatchString(s) {
		return false
	}
	return s == "." || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") || strings.HasPrefix(s, "/") ||
		strings.HasPrefix(s, "file:") || strings.Contains(strings.SplitN(s, " ", 2)[0], "://") ||
		strings.HasSuffix(s, ".whl") || strings.HasSuffix(s, ".tar.gz") || strings.HasSuffix(s, ".zip")
}

func (p *Project) warnf(format string, args ...any) {
	p.Warnings = append(p.Warnings, fmt.Sprintf(format, args...))
}

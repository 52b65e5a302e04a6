package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Load finds and reads the spec of the project in dir — pyship.toml, or [tool.pyship] in
// pyproject.toml (both present is an error) — validates it and applies the overlay [env.NAME]
// when env is not "". A project without a spec gives an empty Spec whose File is "".
// Invalid specs give an Errors value listing every problem of the file at once.
func Load(dir, env string) (*Spec, error) {
	specPath := filepath.Join(dir, "pyship.toml")
	pyPath := filepath.Join(dir, "pyproject.toml")
	specData, specOK, err := readIfExists(specPath)
	if err != nil {
		return nil, err
	}
	pyData, pyOK, err := readIfExists(pyPath)
	if err != nil {
		return nil, err
	}
	if pyOK {
		doc := parseDocument(pyPath, pyData, toolPrefix())
		switch {
		case specOK && doc.found:
			return nil, Errors{errAt(doc.at, "",
				"move the settings into pyship.toml and delete [tool.pyship] from pyproject.toml, or the other way round",
				"the spec is defined twice, in %s and in [tool.pyship] of %s; keep one", specPath, pyPath)}
		case !specOK:
			return fromDocument(doc, env)
		}
	}
	if specOK {
		return fromDocument(parseDocument(specPath, specData, nil), env)
	}
	return emptySpec(env)
}

// ProjectRoot is the folder of the project that dir is in: dir when it holds a spec, else the
// nearest folder above it that holds one (pyship.toml, or a pyproject.toml with a
// [tool.pyship] table), as git finds a repository from a subfolder; dir when none does.
func ProjectRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	for d := abs; ; d = filepath.Dir(d) {
		if Exists(d) {
			if d == abs {
				return dir
			}
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// Exists reports whether dir holds a spec: pyship.toml, or a pyproject.toml with a
// [tool.pyship] table.
func Exists(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "pyship.toml")); err == nil {
		return true
	}
	py := filepath.Join(dir, "pyproject.toml")
	data, ok, err := readIfExists(py)
	return err == nil && ok && parseDocument(py, data, toolPrefix()).found
}

// Parse decodes and validates data as the spec file named file, applying the overlay env when it
// is not "". A file named pyproject.toml is read from its [tool.pyship] table; when it has none,
// Parse gives an empty Spec whose File is "", as Load does for a project without a spec.
func Parse(file string, data []byte, env string) (*Spec, error) {
	var prefix []string
	if filepath.Base(file) == "pyproject.toml" {
		prefix = toolPrefix()
	}
	return fromDocument(parseDocument(file, data, prefix), env)
}

// toolPrefix is where the spec lives in pyproject.toml.
func toolPrefix() []string { return []string{"tool", "pyship"} }

func readIfExists(path string) ([]byte, bool, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("reading spec: %w", err)
	}
	return data, true, nil
}

func emptySpec(env string) (*Spec, error) {
	if env != "" {
		return nil, Errors{{Field: "env", Msg: fmt.Sprintf("unknown environment %q: the project has no pyship.toml (nor [tool.pyship] in pyproject.toml) to declare it", env),
			Hint: fmt.Sprintf("create pyship.toml with an [env.%s] table", env)}}
	}
	return &Spec{Env: map[string]string{}, Positions: map[string]Pos{}}, nil
}

// fromDocument decodes and validates the base spec and every overlay, so that all problems of
// the file are reported at once, and returns the spec with the overlay env applied.
func fromDocument(doc *document, env string) (*Spec, error) {
	if doc.syntax {
		return nil, doc.errs.sorted()
	}
	if !doc.found {
		return emptySpec(env)
	}
	tablePrefix := ""
	if len(doc.prefix) > 0 {
		tablePrefix = strings.Join(doc.prefix, ".") + "."
	}
	fs := fields()
	base, ovs, errs := splitOverlays(doc.root, tablePrefix)
	errs = append(slices.Clone(doc.errs), errs...)

	dec := newDecoder(fs, tablePrefix)
	dec.table(base.tbl, "")
	dec.validate()
	errs = append(errs, dec.errs...)
	result := dec.spec

	baseErrs := map[Error]bool{}
	for _, e := range dec.errs {
		baseErrs[*e] = true
	}
	var names []string
	for _, ov := range ovs {
		names = append(names, ov.name)
		merged := base.clone()
		merge(merged, ov.n)
		od := newDecoder(fs, tablePrefix)
		od.table(merged.tbl, "")
		od.validate()
		for _, e := range od.errs {
			if baseErrs[*e] {
				continue
			}
			if !strings.HasPrefix(e.Field, "env."+ov.name+".") {
				e.Msg += fmt.Sprintf(" (with [%senv.%s] applied)", tablePrefix, ov.name)
			}
			errs = append(errs, e)
		}
		if ov.name == env {
			result = od.spec
			for k, p := range result.Positions {
				if p != dec.spec.Positions[k] {
					p.Env = env
					result.Positions[k] = p
				}
			}
		}
	}
	if env != "" && !slices.Contains(names, env) {
		errs = append(errs, unknownEnv(doc, env, names, tablePrefix))
	}
	if len(errs) > 0 {
		return nil, errs.sorted()
	}
	result.File = doc.file
	result.Environments = names
	result.Environment = env
	return result, nil
}

func unknownEnv(doc *document, env string, names []string, tablePrefix string) *Error {
	e := &Error{File: doc.file, Field: "env"}
	if len(names) == 0 {
		e.Msg = fmt.Sprintf("unknown environment %q: the spec declares no environment overlays", env)
		e.Hint = fmt.Sprintf("add an [%senv.%s] table", tablePrefix, env)
		return e
	}
	e.Msg = fmt.Sprintf("unknown environment %q: the spec declares %s", env, quoteList(names, "and"))
	if s := suggest(env, names); s != "" {
		e.Hint = fmt.Sprintf("did you mean %q?", s)
	} else {
		e.Hint = fmt.Sprintf("add an [%senv.%s] table", tablePrefix, env)
	}
	return e
}

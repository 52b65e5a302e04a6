package plan

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pyship/pyship/internal/detect"
	"github.com/pyship/pyship/internal/spec"
)

// Defaults used when neither the spec nor the project decides.
const (
	DefaultPort           = 8000
	DefaultWorkers        = 2
	DefaultHealthPath     = "/"
	DefaultInterval       = "5s"
	DefaultTimeout        = "2s"
	DefaultStartupTimeout = "60s"
	DefaultTarget         = "local"
	DefaultStrategy       = "rolling"
	DefaultReplicas       = 1
	DefaultDrainTimeout   = "30s"
	DefaultRequestTimeout = "60s"
	DefaultRollbackWindow = "10m"
	DefaultKeepReleases   = 5
)

// DefaultRetention is what prune keeps when [backup] sets no keep_* key.
var DefaultRetention = Retention{KeepLast: 7, KeepDaily: 7, KeepWeekly: 4}

// DefaultCanary is the canary used when the strategy is canary and the spec leaves it open.
func DefaultCanary() Canary {
	return Canary{Steps: []int{10, 50, 100}, Pause: "30s", MinRequests: 50, MaxErrorRate: 0.01, MaxLatencyRatio: 1.5}
}

// builder assembles a Plan from a spec and a detected project.
type builder struct {
	sp   *spec.Spec
	proj *detect.Project
	p    *Plan
}

// Assemble resolves a plan from the spec (zero fields: not set) and the detected project. It is
// pure: it reads no files. It fails when no start command can be decided.
func Assemble(sp *spec.Spec, proj *detect.Project) (*Plan, error) {
	p, runErr, err := assemble(sp, proj)
	if err != nil {
		return nil, err
	}
	if runErr != nil {
		return nil, runErr
	}
	return p, nil
}

// assemble is Assemble that keeps going when no start command can be decided: the plan is then
// complete but for Run, and runErr says why.
func assemble(sp *spec.Spec, proj *detect.Project) (p *Plan, runErr, err error) {
	if sp == nil {
		sp = &spec.Spec{}
	}
	if proj == nil {
		return nil, nil, errors.New("building a plan: no detected project")
	}
	b := &builder{sp: sp, proj: proj, p: &Plan{
		SchemaVersion: SchemaVersion,
		Dir:           proj.Dir,
		SpecFile:      sp.File,
		Environment:   sp.Environment,
		Data:          []DataFolder{},
		Env:           map[string]string{},
		Evidence:      map[string]Evidence{},
		Warnings:      append([]string{}, proj.Warnings...),
	}}
	b.identity()
	b.python()
	b.dependencies()
	if runErr = b.run(); runErr != nil {
		b.p.Run = Run{}
	}
	b.health()
	b.folders()
	b.env()
	b.multiproc()
	b.build()
	b.deploy()
	b.kubernetes()
	b.edge()
	b.backup()
	b.monitor()
	return b.p, runErr, nil
}

// specEv is the evidence of a value the spec sets at key (a dotted path of the spec).
func (b *builder) specEv(key, rule string) Evidence {
	pos := b.sp.Positions[key]
	file := pos.File
	if file == "" {
		file = b.sp.File
	}
	if pos.Env != "" {
		rule = overlayRule(rule, pos.Env)
	}
	return Evidence{File: b.rel(file), Line: pos.Line, Rule: rule}
}

// overlayRule names the overlay env in a spec rule: "spec [run] port" becomes
// "spec [env.prod.run] port", "spec version" "spec [env.prod] version".
func overlayRule(rule, env string) string {
	rest, ok := strings.CutPrefix(rule, "spec ")
	switch {
	case !ok:
		return rule + " ([env." + env + "])"
	case strings.HasPrefix(rest, "["):
		return "spec [env." + env + "." + rest[1:]
	}
	return "spec [env." + env + "] " + rest
}

// rel makes an absolute path relative to the project (slash-separated) when it is inside it.
func (b *builder) rel(file string) string {
	if file == "" || !filepath.IsAbs(file) {
		return filepath.ToSlash(file)
	}
	r, err := filepath.Rel(b.proj.Dir, file)
	if err != nil || strings.HasPrefix(r, "..") {
		return filepath.ToSlash(file)
	}
	return filepath.ToSlash(r)
}

func fromDetect(e detect.Evidence) Evidence {
	return Evidence{File: e.File, Line: e.Line, Rule: e.Rule}
}

// def is the evidence of a default value; note says more when not "".
func def(note string) Evidence { return Evidence{Rule: "default", Note: note} }

func (b *builder) ev(key string, e Evidence) { b.p.Evidence[key] = e }

func (b *builder) warnf(format string, args ...any) {
	b.p.Warnings = append(b.p.Warnings, fmt.Sprintf(format, args...))
}

func (b *builder) identity() {
	if b.sp.Name != "" {
		b.p.Name = b.sp.Name
		b.ev("name", b.specEv("name", "spec name"))
	} else {
		b.p.Name = b.proj.Name.Value
		b.ev("name", fromDetect(b.proj.Name.Evidence))
	}
	if b.sp.Version != "" {
		b.p.Version = b.sp.Version
		b.ev("version", b.specEv("version", "spec version"))
	} else {
		b.p.Version = b.proj.Version.Value
		b.ev("version", fromDetect(b.proj.Version.Evidence))
	}
}

func (b *builder) python() {
	switch {
	case b.sp.Build.Python != "":
		b.p.Python.Version = b.sp.Build.Python
		b.ev("python.version", b.specEv("build.python", "spec [build] python"))
		if d := b.proj.Python; d.Value != "" && majorMinor(d.Value) != majorMinor(b.sp.Build.Python) {
			b.warnf("the spec asks for Python %s but %s:%d says %s; the spec wins", b.sp.Build.Python, d.Evidence.File, d.Evidence.Line, d.Value)
		}
		if w := b.proj.PythonConflict(b.sp.Build.Python); w != "" {
			b.warnf("%s: [build] python %s %s; the spec wins: change [build] python or the constraint", location(b.specEv("build.python", "")), b.sp.Build.Python, w)
		}
	case b.proj.Python.Value != "":
		b.p.Python.Version = b.proj.Python.Value
		b.ev("python.version", fromDetect(b.proj.Python.Evidence))
	default:
		b.p.Python.Version = detect.DefaultPython
		b.ev("python.version", def(""))
	}
}

// majorMinor turns "3.12.4" into "3.12".
func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

func (b *builder) dependencies() {
	d := b.proj.Dependencies
	conv := func(rs []detect.Requirement) []Requirement {
		out := []Requirement{}
		for _, r := range rs {
			out = append(out, Requirement{Name: r.Name, Spec: r.Spec, Version: r.Version, Hashes: r.Hashes})
		}
		return out
	}
	b.p.Dependencies = Dependencies{Source: d.Source, Kind: d.Kind, Requirements: conv(d.Requirements),
		Others: d.Others, PipOptions: d.PipOptions}
	if len(d.Constraints) > 0 {
		b.p.Dependencies.Constraints = conv(d.Constraints)
	}
	if b.p.Dependencies.Kind == "" {
		b.p.Dependencies.Kind = "none"
	}
	b.ev("dependencies.source", fromDetect(d.Evidence))
}

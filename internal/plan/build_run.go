package plan

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/pyship/pyship/internal/detect"
)

// specCommandRule is what the no-entry-point error lists first.
const specCommandRule = "[run] command in pyship.toml (or [tool.pyship.run] in pyproject.toml)"

// run decides the start command, kind, framework, server, port and workers.
func (b *builder) run() error {
	var e detect.Entry
	var cmdEv Evidence
	switch {
	case b.sp.Run.Command != "":
		ev := b.specEv("run.command", "spec [run] command")
		argv, err := detect.SplitCommand(b.sp.Run.Command)
		if err == nil && len(argv) == 0 {
			err = errors.New("it is empty")
		}
		if err != nil {
			return fmt.Errorf("%s:%d: [run] command %q: %v; write it as a shell-like line, e.g. command = \"gunicorn app:app\"", ev.File, ev.Line, b.sp.Run.Command, err)
		}
		e = b.proj.Describe(argv, "")
		if pe := b.proj.Entry; pe != nil {
			ev.Rule += fmt.Sprintf(" (overrides %s", pe.Evidence.Rule)
			if pe.Evidence.File != "" {
				ev.Rule += " at " + location(fromDetect(pe.Evidence))
			}
			ev.Rule += ")"
		}
		cmdEv = ev
	case b.proj.Entry != nil:
		e = *b.proj.Entry
		cmdEv = fromDetect(e.Evidence)
	case errors.Is(b.proj.EntryErr, detect.ErrNoEntrypoint):
		looked := append([]string{specCommandRule}, b.proj.Looked...)
		return fmt.Errorf("finding how to start the app in %s: %w", b.proj.Dir, detect.NoEntrypointError(looked))
	case b.proj.EntryErr != nil:
		return b.proj.EntryErr
	default:
		return fmt.Errorf("finding how to start the app in %s: %w", b.proj.Dir, detect.NoEntrypointError(append([]string{specCommandRule}, b.proj.Looked...)))
	}
	r := &b.p.Run

	r.Workers = DefaultWorkers
	b.ev("run.workers", def(""))
	if b.sp.Run.Workers != 0 {
		r.Workers = b.sp.Run.Workers
		b.ev("run.workers", b.specEv("run.workers", "spec [run] workers"))
	}

	r.Command = e.Command
	if r.Command == nil {
		r.Command = detect.ServerCommand(e.Server, e.App, r.Workers)
		if i := slices.Index(r.Command, "--workers"); i > 0 {
			r.WorkersArg = i + 1
		}
	}
	r.Shell = detect.JoinCommand(r.Command)
	b.ev("run.command", cmdEv)
	if n, ok := commandWorkers(r.Command); ok && b.sp.Run.Workers != 0 && b.sp.Run.Command != "" && n != r.Workers {
		cev, wev := b.specEv("run.command", ""), b.specEv("run.workers", "")
		b.warnf("%s:%d: [run] command passes %d workers but %s:%d sets workers = %d, which the command does not use: change the command's worker flag, or drop command and let pyship build it from workers",
			cev.File, cev.Line, n, wev.File, wev.Line, r.Workers)
	}

	r.Kind = e.Kind
	kindEv := cmdEv
	if e.Kind == "worker" {
		kindEv.Rule = "worker: no HTTP server (" + cmdEv.Rule + ")"
	} else {
		kindEv.Rule = "web: serves HTTP (" + cmdEv.Rule + ")"
	}
	if b.sp.Run.Kind != "" {
		r.Kind = b.sp.Run.Kind
		kindEv = b.specEv("run.kind", "spec [run] kind")
	}
	b.ev("run.kind", kindEv)

	r.Framework, r.Server, r.App = e.Framework, e.Server, e.App
	b.ev("run.framework", cmdEv)
	if r.Server != "" {
		sev := fromDetect(e.ServerEvidence)
		if sev.Rule == "" {
			sev = cmdEv
		}
		b.ev("run.server", sev)
	}
	if r.App != "" {
		b.ev("run.app", cmdEv)
	}
	r.Entrypoint = e.Entrypoint
	if r.Entrypoint != "" {
		b.ev("run.entrypoint", cmdEv)
	}
	r.PythonPath = e.PythonPath
	if len(r.PythonPath) > 0 {
		b.ev("run.pythonPath", Evidence{File: r.PythonPath[0] + "/", Rule: "src/ layout: the app's package is under " + r.PythonPath[0] + "/"})
	}
	b.port(e, cmdEv)
	return nil
}

// port decides the port of a web app: spec > what the command binds > 8000.
func (b *builder) port(e detect.Entry, cmdEv Evidence) {
	r := &b.p.Run
	if r.Kind != "web" {
		r.Port = 0
		if b.sp.Run.Port != 0 {
			b.warnf("%s: [run] port is set but the app is a worker, which listens on no port; remove it or set [run] kind = \"web\"", location(b.specEv("run.port", "")))
		}
		return
	}
	bound, usesEnv := detect.BindPort(r.Command)
	boundEv := Evidence{File: cmdEv.File, Line: cmdEv.Line, Rule: "the start command binds port " + strconv.Itoa(bound)}
	inCode := false
	if e.Port != 0 && bound == 0 {
		bound, inCode = e.Port, e.PortInCode.File != ""
		if inCode {
			boundEv = fromDetect(e.PortInCode)
			boundEv.Rule = "the app's code binds port " + strconv.Itoa(bound) + " and ignores $PORT (" + boundEv.Rule + ")"
		} else {
			boundEv.Rule = "the start command binds port " + strconv.Itoa(bound)
		}
	}
	// readPort is the fix for an app that binds a literal port in its code.
	readPort := fmt.Sprintf(`read the port from $PORT (e.g. int(os.environ.get("PORT", "%d")))`, bound)
	const local = "the local target gives each replica its own $PORT and cannot run the app"
	switch {
	case b.sp.Run.Port != 0:
		r.Port = b.sp.Run.Port
		b.ev("run.port", b.specEv("run.port", "spec [run] port"))
		switch {
		case inCode && bound != r.Port:
			b.warnf("%s: the app binds port %d in its code but [run] port is %d (%s): health checks and traffic go to %d and fail; %s, or set [run] port = %d",
				location(boundEv), bound, r.Port, location(b.specEv("run.port", "")), r.Port, readPort, bound)
		case inCode:
			b.warnf("%s: the app binds port %d in its code and ignores $PORT: %s; %s", location(boundEv), bound, local, readPort)
		case bound != 0 && bound != r.Port:
			b.warnf("the start command binds port %d but [run] port is %d (%s): health checks and traffic go to %d; make them agree, or bind ${PORT} in the command", bound, r.Port, location(b.specEv("run.port", "")), r.Port)
		}
	case bound != 0:
		r.Port = bound
		b.ev("run.port", boundEv)
		if inCode {
			b.warnf("%s: the app binds port %d in its code and ignores $PORT: the image and Kubernetes use port %d, but %s; %s",
				location(boundEv), bound, bound, local, readPort)
		}
	default:
		r.Port = DefaultPort
		var notes []string
		if usesEnv {
			notes = append(notes, "the start command binds ${PORT}")
		}
		if len(b.proj.PortEnv) > 0 {
			notes = append(notes, "the app reads $PORT at "+location(fromDetect(b.proj.PortEnv[0])))
		}
		b.ev("run.port", def(strings.Join(notes, "; ")))
	}
}

// location is "file:line", "file" or "".
func location(e Evidence) string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return e.File
}

// commandWorkers is the worker count a gunicorn or uvicorn command line passes (--workers N,
// --workers=N, -w N, -wN); ok is false when it passes none.
func commandWorkers(argv []string) (n int, ok bool) {
	if len(argv) == 0 || (filepath.Base(argv[0]) != "gunicorn" && filepath.Base(argv[0]) != "uvicorn") {
		return 0, false
	}
	for i, a := range argv[1:] {
		var v string
		switch {
		case a == "--workers" || a == "-w":
			if i+2 < len(argv) {
				v = argv[i+2]
			}
		case strings.HasPrefix(a, "--workers="):
			v = strings.TrimPrefix(a, "--workers=")
		case strings.HasPrefix(a, "-w") && len(a) > 2 && !strings.HasPrefix(a, "--"):
			v = a[2:]
		default:
			continue
		}
		if n, err := strconv.Atoi(v); err == nil {
			return n, true
		}
	}
	return 0, false
}

package detect

import (
	"path"
	"strings"
)

// djangoProject is what manage.py and the settings module say.
type djangoProject struct {
	settings     string // settings module, e.g. "mysite.settings"
	settingsLine int
	settingsFile string
	wsgi, asgi   string // "mysite.wsgi.application"
	wsgiLine     int
	asgiLine     int
	// wsgiFile is set when the settings name no WSGI_APPLICATION and the WSGI application is
	// the project's wsgi.py `application` (what `django-admin startproject` writes).
	wsgiFile   string
	pythonPath string
}

// findDjango reads manage.py's DJANGO_SETTINGS_MODULE and that settings file's
// WSGI_APPLICATION / ASGI_APPLICATION; nil when there is no manage.py.
func findDjango(srcs []*pyFile) *djangoProject {
	var manage *pyFile
	for _, pf := range srcs {
		if pf.rel == "manage.py" || pf.rel == "src/manage.py" {
			manage = pf
			break
		}
	}
	if manage == nil {
		return nil
	}
	dj := &djangoProject{}
	for i, t := range manage.toks {
		if t.kind == tokString && t.text == "DJANGO_SETTINGS_MODULE" && at(manage.toks, i+1, ",") && i+2 < len(manage.toks) && manage.toks[i+2].kind == tokString {
			dj.settings, dj.settingsLine = manage.toks[i+2].text, manage.toks[i+2].line
			break
		}
	}
	if dj.settings == "" {
		return dj
	}
	// the settings module first, then the modules beside it (settings split into base.py,
	// prod.py...) and inside it (a settings package)
	parent := ""
	if i := strings.LastIndex(dj.settings, "."); i >= 0 {
		parent = dj.settings[:i]
	}
	var files, near []*pyFile
	for _, pf := range srcs {
		switch {
		case pf.module == dj.settings:
			files = append(files, pf)
		case pf.module != "" && (strings.HasPrefix(pf.module, dj.settings+".") || parent != "" && strings.HasPrefix(pf.module, parent+".")):
			near = append(near, pf)
		}
	}
	files = append(files, near...)
	for _, pf := range files {
		if dj.settingsFile == "" {
			dj.settingsFile, dj.pythonPath = pf.rel, pf.pythonPath
		}
		for i, t := range pf.toks {
			if !t.first || !at(pf.toks, i+1, "=") || i+2 >= len(pf.toks) || pf.toks[i+2].kind != tokString {
				continue
			}
			switch t.text {
			case "WSGI_APPLICATION":
				if dj.wsgi == "" {
					dj.wsgi, dj.wsgiLine, dj.settingsFile = pf.toks[i+2].text, t.line, pf.rel
				}
			case "ASGI_APPLICATION":
				if dj.asgi == "" {
					dj.asgi, dj.asgiLine = pf.toks[i+2].text, t.line
					dj.settingsFile = pf.rel
				}
			}
		}
	}
	if dj.wsgi == "" {
		dj.findWSGIFile(srcs)
	}
	return dj
}

// findWSGIFile looks for PROJECT/wsgi.py defining `application` beside the settings (PROJECT
// is the settings module's package: "mysite" for mysite.settings or mysite.settings.prod):
// Django serves that object when WSGI_APPLICATION is not set, and so does gunicorn.
func (dj *djangoProject) findWSGIFile(srcs []*pyFile) {
	pkg, _, _ := strings.Cut(dj.settings, ".")
	for _, pf := range srcs {
		if pf.module != pkg+".wsgi" {
			continue
		}
		for i, t := range pf.toks {
			if t.first && t.kind == tokName && t.text == "application" && at(pf.toks, i+1, "=") {
				dj.wsgi, dj.wsgiLine, dj.wsgiFile = pkg+".wsgi.application", t.line, pf.rel
				return
			}
		}
	}
}

// appRef turns "mysite.wsgi.application" into "mysite.wsgi:application".
func appRef(dotted string) string {
	i := strings.LastIndex(dotted, ".")
	if i < 0 {
		return dotted
	}
	return dotted[:i] + ":" + dotted[i+1:]
}

// moduleFile is the file of module mod relative to the project, given its python path.
func moduleFile(mod, pythonPath string) string {
	return path.Join(pythonPath, strings.ReplaceAll(mod, ".", "/")+".py")
}

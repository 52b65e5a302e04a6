package spec

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzLoadBytes feeds arbitrary bytes as pyship.toml and as pyproject.toml, with and without
// an overlay: decoding must never panic, and must either succeed or explain itself.
func FuzzLoadBytes(f *testing.F) {
	f.Add([]byte("name = \"app\"\n[run]\nport = 8000\n[env.production]\nrun.port = 80\n"))
	f.Add([]byte("[tool.pyship]\nname = \"app\"\n[tool.pyship.env.qa.run]\nworkers = 3\n"))
	f.Add([]byte("[monitor]\navailability = 99.9\n[deploy.canary]\nmax_burn_rate = 2\n[[deploy.canary.checks]]\nname = \"a\"\nquery = 'sum(x{r=\"{{release}}\"})'\nmax = 1\n[[deploy.canary.checks]]\nname = \"b\"\nquery = \"up\"\nmin = 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, file := range []string{"pyship.toml", "pyproject.toml"} {
			s, err := Parse(file, data, "")
			check(t, file, lines, s, err)
			if err != nil {
				continue
			}
			for _, env := range s.Environments {
				o, err := Parse(file, data, env)
				check(t, file, lines, o, err)
				if err == nil && o.Environment != env {
					t.Errorf("Environment = %q, want %q", o.Environment, env)
				}
			}
		}
	})
}

func check(t *testing.T, file string, lines int, s *Spec, err error) {
	t.Helper()
	if err == nil {
		if s == nil {
			t.Fatal("nil spec without an error")
		}
		for path, p := range s.Positions {
			if p.File != file || p.Line < 1 || p.Line > lines || p.Col < 1 {
				t.Errorf("Positions[%q] = %+v is outside the file", path, p)
			}
		}
		return
	}
	if s != nil {
		t.Error("a spec and an error")
	}
	var errs Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		t.Fatalf("error %v (%T) is not a non-empty Errors", err, err)
	}
	for _, e := range errs {
		if e.Msg == "" || (e.File != file && e.File != "") || e.Line < 0 || e.Line > lines {
			t.Errorf("bad error %#v", e)
		}
	}
}

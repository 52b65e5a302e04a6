package pybuild

import (
	"strings"
	"testing"
)

func TestPlatformsCoverTheImagesGlibc(t *testing.T) {
	got := Target{PythonVersion: "3.11", Arch: "x86_64", Glibc: "2.36"}.Platforms()
	if got[0] != "manylinux_2_36_x86_64" || !contains(got, "manylinux_2_17_x86_64") || !contains(got, "manylinux2014_x86_64") || contains(got, "manylinux_2_37_x86_64") {
		t.Errorf("platforms for glibc 2.36: %v", got)
	}
	if got := (Target{PythonVersion: "3.12", Arch: "aarch64"}).Platforms(); got[0] != "manylinux_2_17_aarch64" || contains(got, "manylinux1_x86_64") {
		t.Errorf("platforms for an unknown glibc on arm64: %v", got)
	}
}

func TestFixShebang(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"#!/root/.pyenv/versions/3.11.7/bin/python3.11\nimport sys\n", "#!/usr/bin/python3.11\nimport sys\n"},
		{"#!/bin/sh\n'''exec' \"/very/long/path/bin/python3.11\" \"$0\" \"$@\"\n' '''\nimport sys\n", "#!/usr/bin/python3.11\nimport sys\n"},
		{"#!/bin/bash\necho hi\n", ""},
		{"\x7fELF", ""},
	} {
		out, ok := fixShebang([]byte(tc.in), "/usr/bin/python3.11")
		if string(out) != tc.want || ok != (tc.want != "") {
			t.Errorf("fixShebang(%q) = %q, %v; want %q", tc.in, out, ok, tc.want)
		}
	}
}

func TestPycPath(t *testing.T) {
	if got := PycPath("src/svc/main.py", "3.11"); got != "src/svc/__pycache__/main.cpython-311.pyc" {
		t.Errorf("PycPath = %q", got)
	}
	if got := PycPath("app.py", "3.12"); got != "__pycache__/app.cpython-312.pyc" {
		t.Errorf("PycPath = %q", got)
	}
}

func contains(xs []string, x string) bool {
	return strings.Contains("\n"+strings.Join(xs, "\n")+"\n", "\n"+x+"\n")
}

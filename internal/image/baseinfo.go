package image

import (
	"archive/tar"
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// BaseInfo is what pyship needs to know about a base image, read from its filesystem and config
// without running it.
type BaseInfo struct {
	// Python is the interpreter's path inside the image, e.g. /usr/bin/python3.11.
	Python string `json:"python"`
	// PythonVersion is "3.11.2" when the image says, or "3.11".
	PythonVersion string `json:"pythonVersion"`
	// Glibc is the C library version ("2.36"), "" when unknown.
	Glibc string `json:"glibc,omitempty"`
	// Shell is true when /bin/sh exists.
	Shell bool `json:"shell"`
	// Packages are the Python distributions installed in the base.
	Packages []Package `json:"packages,omitempty"`
}

// Package is an installed Python distribution.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	License string `json:"license,omitempty"`
}

// MinorVersion is "3.11" of PythonVersion.
func (b BaseInfo) MinorVersion() string { return minor(b.PythonVersion) }

func minor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

func inspectCached(img v1.Image, cacheFile string) (BaseInfo, error) {
	var info BaseInfo
	if b, err := os.ReadFile(cacheFile); err == nil && json.Unmarshal(b, &info) == nil {
		return info, nil
	}
	info, err := inspect(img)
	if err != nil {
		return info, err
	}
	if b, err := json.Marshal(info); err == nil {
		_ = writeFileAtomic(cacheFile, b) // only a cache
	}
	return info, nil
}

var (
	pyBin       = regexp.MustCompile(`^(usr/local/bin|usr/bin|bin)/python(3\.\d+)$`)
	distInfo    = regexp.MustCompile(`(/(site|dist)-packages|^opt/pyship/deps)/[^/]+\.dist-info/METADATA$`)
	dpkgVersion = regexp.MustCompile(`^(\d+\.\d+(\.\d+)?)`)
)

// inspect reads the flattened filesystem of img.
func inspect(img v1.Image) (BaseInfo, error) {
	var info BaseInfo
	cf, err := img.ConfigFile()
	if err != nil {
		return info, err
	}
	envVersion := ""
	for _, e := range cf.Config.Env {
		if v, ok := strings.CutPrefix(e, "PYTHON_VERSION="); ok {
			envVersion = v
		}
	}
	rc := mutate.Extract(fastImage{img})
	defer rc.Close()
	tr := tar.NewReader(rc)
	pythons := map[string]string{} // path -> minor version
	var dpkgPython, dpkgGlibc string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return info, fmt.Errorf("reading the filesystem: %w", err)
		}
		n := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		switch {
		case n == "bin/sh" || n == "usr/bin/sh":
			info.Shell = true
		case pyBin.MatchString(n):
			pythons[n] = pyBin.FindStringSubmatch(n)[2]
		case n == "var/lib/dpkg/status":
			dpkgPython, dpkgGlibc = readDpkg(tr)
		case distInfo.MatchString(n):
			if p, ok := readMetadata(tr); ok {
				info.Packages = append(info.Packages, p)
			}
		}
	}
	for _, dir := range []string{"usr/local/bin", "usr/bin", "bin"} {
		var best string
		for p, v := range pythons {
			if path.Dir(p) == dir && (best == "" || versionLess(pythons[best], v)) {
				best = p
			}
		}
		if best != "" {
			info.Python = "/" + best
			info.PythonVersion = pythons[best]
			break
		}
	}
	if info.Python == "" {
		return info, errors.New("no python3.X interpreter in /usr/local/bin, /usr/bin or /bin: pick a Python base image such as python:3.12-slim")
	}
	if v := envVersion; v != "" && minor(v) == info.PythonVersion {
		info.PythonVersion = v
	} else if v := dpkgPython; v != "" && minor(v) == info.PythonVersion && info.Python != "/usr/local/bin/python"+info.PythonVersion {
		info.PythonVersion = v
	}
	info.Glibc = dpkgGlibc
	sort.Slice(info.Packages, func(i, j int) bool { return info.Packages[i].Name < info.Packages[j].Name })
	return info, nil
}

func versionLess(a, b string) bool {
	var a1, a2, b1, b2 int
	fmt.Sscanf(a, "%d.%d", &a1, &a2)
	fmt.Sscanf(b, "%d.%d", &b1, &b2)
	return a1 < b1 || a1 == b1 && a2 < b2
}

// readDpkg finds the versions of Debian's python3.X and libc6 packages in a dpkg status file.
func readDpkg(r io.Reader) (python, glibc string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var pkg string
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "Package: "); ok {
			pkg = v
			continue
		}
		v, ok := strings.CutPrefix(line, "Version: ")
		if !ok {
			continue
		}
		m := dpkgVersion.FindString(v)
		switch {
		case pkg == "libc6":
			glibc = m
		case strings.HasPrefix(pkg, "python3.") && !strings.Contains(pkg, "-") && m != "":
			if python == "" || versionLess(python, m) {
				python = m
			}
		}
	}
	return python, glibc
}

// readMetadata reads Name, Version and License from a dist-info METADATA file.
func readMetadata(r io.Reader) (Package, bool) {
	var p Package
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break // the headers end at the first blank line
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		switch k {
		case "Name":
			p.Name = v
		case "Version":
			p.Version = v
		case "License":
			if p.License == "" {
				p.License = v
			}
		}
	}
	return p, p.Name != "" && p.Version != ""
}

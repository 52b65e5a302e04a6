package kube

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pyship/pyship/internal/plan"
)

// LoadInputs reads what Render needs from disk: the config folder's files and the secrets
// dotenv file named by the plan.
func LoadInputs(p *plan.Plan, o *Options) error {
	if p.Config != nil && p.Config.Path != "" && o.ConfigFiles == nil {
		dir := filepath.Join(p.Dir, p.Config.Path)
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("reading the config folder %s: %w", dir, err)
		}
		o.ConfigFiles = map[string]string{}
		for _, e := range entries {
			if e.IsDir() || !e.Type().IsRegular() {
				continue // ConfigMaps are flat; nested folders are not mounted
			}
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				return fmt.Errorf("reading config file: %w", err)
			}
			o.ConfigFiles[e.Name()] = string(data)
		}
	}
	if p.SecretsFile != "" && o.Secrets == nil {
		s, err := readDotenv(p.SecretsFile)
		if err != nil {
			return err
		}
		o.Secrets = s
	}
	return nil
}

func readDotenv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the secrets file ([secrets] file): %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected KEY=value", path, n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		out[strings.TrimSpace(k)] = v
	}
	return out, sc.Err()
}

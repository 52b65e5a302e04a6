package kube

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pyship/pyship/internal/dotenv"
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
		s, err := dotenv.Read(p.SecretsFile)
		if err != nil {
			return err
		}
		o.Secrets = s
	}
	return nil
}

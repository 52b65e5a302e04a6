package cli

import (
	"github.com/pyship/pyship/internal/platform"
	"github.com/spf13/cobra"
)

func newDestroyCmd(s *streams) *cobra.Command {
	return newActionCmd(s, "destroy", "Stop the app and delete its releases, logs and state (its data folders stay)",
		"Destroy the app on this machine: stop it, then delete its releases, logs and state. Persistent data folders are kept. On Kubernetes: delete every object pyship applied for the app and its rollout state; persistent volume claims are kept.", platform.Platform.Destroy)
}

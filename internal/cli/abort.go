package cli

import (
	"github.com/pyship/pyship/internal/platform"
	"github.com/spf13/cobra"
)

func newAbortCmd(s *streams) *cobra.Command {
	return newActionCmd(s, "abort", "Abort the deploy in progress and roll back to the stable release",
		"Abort the deploy in progress: traffic returns to the stable release and the new replicas stop. On Kubernetes: a running deploy is asked to roll back and abort waits for it; a rollout whose deploy was killed is rolled back by abort itself.", platform.Platform.Abort)
}

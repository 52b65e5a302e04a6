package cli

import (
	"github.com/pyship/pyship/internal/platform"
	"github.com/spf13/cobra"
)

func newPromoteCmd(s *streams) *cobra.Command {
	return newActionCmd(s, "promote", "Skip the remaining canary steps and give the new release all traffic",
		"Promote the canary in progress: the canary (or a canary paused for lack of traffic) gets all traffic now. After a blue-green switch, promote ends the rollback window: the previous release's warm replicas stop (on Kubernetes it scales down). Rolling and blue-green deploys in progress are health-gated and finish by themselves: promote refuses them.", platform.Platform.Promote)
}

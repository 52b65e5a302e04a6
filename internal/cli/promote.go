package cli

import "github.com/spf13/cobra"

func newPromoteCmd(s *streams) *cobra.Command {
	return newActionCmd(s, "promote", "Skip the remaining canary steps and give the new release all traffic",
		"Promote the deploy in progress: the canary (or a canary paused for lack of traffic) gets all traffic now. On Kubernetes: a canary in progress is promoted at its next step; otherwise the rollback window ends and the previous release scales down.", true)
}

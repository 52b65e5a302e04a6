package cli

import (
	"github.com/pyship/pyship/internal/platform"
	"github.com/spf13/cobra"
)

func newStopCmd(s *streams) *cobra.Command {
	return newActionCmd(s, "stop", "Stop serving the app: its replicas and proxy stop, releases and data stay",
		"Stop the app: drain and stop its replicas and close its public port. `pyship deploy` or `pyship rollback` serves it again.", platform.Platform.Stop)
}

// Command pyship takes a Python service from its source folder to a running, monitored,
// backed-up production service.
package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/pyship/pyship/internal/cli"
)

func main() {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	os.Exit(cli.MainSignals(sig, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr))
}

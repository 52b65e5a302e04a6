// Command pyship takes a Python service from its source folder to a running, monitored,
// backed-up production service.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pyship/pyship/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

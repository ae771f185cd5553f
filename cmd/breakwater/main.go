// Command breakwater stops pull requests that would break an upgrade.
// See 'breakwater --help'.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/breakwater-ci/breakwater/internal/cli"
	"github.com/breakwater-ci/breakwater/internal/pg"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	pg.Shutdown() // a throwaway cluster left by an interrupted run

	os.Exit(code)
}

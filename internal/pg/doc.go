// Package pg is the only package that talks to Postgres. It hands out a
// Cluster, either a throwaway one started from local binaries or an
// external server given by URL, and per-scenario databases on it.
//
// A throwaway cluster is a child process of breakwater. It is stopped and
// its files removed by Cluster.Close; main must also call Shutdown from its
// SIGINT/SIGTERM handler, because deferred Close calls do not run when the
// process is killed by a signal:
//
//	sigs := make(chan os.Signal, 1)
//	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
//	go func() { <-sigs; pg.Shutdown(); os.Exit(2) }()
//
// If breakwater dies without running its handler (SIGKILL, a crash), the
// kernel kills the server through Pdeathsig; only the temp dir stays.
package pg

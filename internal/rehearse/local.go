package rehearse

import (
	"context"
	"io"

	"github.com/breakwater-ci/breakwater/internal/pg"
)

// localHost runs both runtimes from local binaries on one throwaway
// cluster's data dir.
type localHost struct {
	from, to Runtime
	fromBin  pg.Binaries
	cl       *pg.Cluster
	log      io.Writer
}

func (h *localHost) start(ctx context.Context) (*pg.Cluster, error) {
	bin, err := pg.FindBinaries(h.from.Dir)
	if err != nil {
		return nil, err
	}
	h.fromBin = bin
	// The official images' default; with the system's own locales pg
	// picks it when installed, else C.UTF-8.
	locale := h.from.Locale
	if locale == "" && h.from.Locpath != "" {
		locale = "en_US.UTF-8"
	}
	// No template cache: a LOCPATH is usually a temp dir, and the
	// rehearsal must run initdb under the From runtime anyway.
	h.cl, err = pg.StartThrowaway(ctx, pg.ThrowawayOptions{Bin: bin, Locale: locale, NoCache: true, Env: h.from.env(), Log: h.log})
	return h.cl, err
}

func (h *localHost) swap(ctx context.Context) (*pg.Cluster, error) {
	bin, err := pg.FindBinaries(h.to.Dir)
	if err != nil {
		return nil, err
	}
	return h.cl, h.cl.Swap(ctx, bin, h.to.env())
}

func (h *localHost) upgrade(ctx context.Context) (*pg.Cluster, string, error) {
	bin, err := pg.FindBinaries(h.to.Dir)
	if err != nil {
		return nil, "", err
	}
	_, err = h.cl.Upgrade(ctx, h.fromBin, bin, h.to.env())
	return h.cl, "pg_upgrade", err
}

func (h *localHost) close() error {
	if h.cl == nil {
		return nil
	}
	return h.cl.Close()
}

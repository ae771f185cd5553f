package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"

	"github.com/breakwater-ci/breakwater/internal/change"
	"github.com/breakwater-ci/breakwater/internal/check"
	"github.com/breakwater-ci/breakwater/internal/config"
	"github.com/breakwater-ci/breakwater/internal/docker"
	"github.com/breakwater-ci/breakwater/internal/facts"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/rehearse"
	"github.com/breakwater-ci/breakwater/internal/verify"
)

// Rehearsal says whether and how a check rehearses the rollout of a new
// Postgres runtime.
type Rehearsal struct {
	// On rehearses (--rehearse); the config's rehearse.check does too.
	// Auto rehearses only what can be: a change of Postgres image (or the
	// runtimes given) with a Docker daemon for images; otherwise nothing
	// is reported, or a notice when Docker is missing.
	On, Auto bool
	// From and To are runtimes (rehearse.ParseRuntime); "" takes the
	// config's, then the change's base and head Postgres images.
	From, To string
	// Docker runs image runtimes; nil is the local daemon.
	Docker *docker.Client
	// Network is the Docker network of the containers; "" picks.
	Network string
}

// rehearse runs the rehearsal and reports it at the place that names
// the new runtime.
func (rd *reader) rehearse(ctx context.Context, opt Options, set *change.Set, base, head *inventory, images []facts.Pair, dirs []verify.Dir) ([]finding.Finding, error) {
	from, to := opt.Rehearsal.From, opt.Rehearsal.To
	file, line := "", 0
	if from == "" {
		from = rd.cfg.Rehearse.From
	}
	if to == "" {
		to = rd.cfg.Rehearse.To
		if to != "" {
			file = config.DefaultPath
		}
	}
	if from == "" || to == "" {
		if p, ok := rehearsedImage(images); ok {
			if from == "" {
				from = "image:" + p.Base.Image
			}
			if to == "" {
				to = "image:" + p.Head.Image
				file, line = p.Head.File, p.Head.Line
			}
		}
	}
	if from == "" || to == "" {
		if opt.Rehearsal.Auto {
			return nil, nil
		}
		return []finding.Finding{finding.New(check.RehearsalNotRun, config.DefaultPath, 0, "rehearsal",
			"The rehearsal did not run: the change moves no Postgres image, and no runtimes were given. Pass --from and --to (bin:DIR or image:REF), or set rehearse.from and rehearse.to in .breakwater.yml.")}, nil
	}
	fr, err := rehearse.ParseRuntime(from)
	if err != nil {
		return nil, fmt.Errorf("rehearse --from: %w", err)
	}
	tr, err := rehearse.ParseRuntime(to)
	if err != nil {
		return nil, fmt.Errorf("rehearse --to: %w", err)
	}
	seed, _, err := rd.seed(ctx, set, base, head)
	if err != nil {
		return nil, err
	}
	all, err := rd.rehearsalDirs(ctx, set, base, head, dirs)
	if err != nil {
		return nil, err
	}
	res, err := rehearse.Run(ctx, rehearse.Options{
		From: fr, To: tr, Dirs: all, Seed: seed,
		StatementTimeout: opt.Database.StatementTimeout, Progress: opt.Progress,
		Docker: opt.Rehearsal.Docker, Network: opt.Rehearsal.Network,
	})
	var nd *rehearse.NoDockerError
	if errors.As(err, &nd) && opt.Rehearsal.Auto {
		return []finding.Finding{finding.New(check.RehearsalNotRun, file, line, "rehearsal",
			fmt.Sprintf("The rehearsal of %s → %s did not run: %v. Run breakwater where Docker is available (GitHub-hosted runners have it), or rehearse with local binaries (bin:DIR).", from, to, err))}, nil
	}
	if err != nil {
		return nil, err
	}
	return check.Rehearsal(res, file, line), nil
}

// rehearsedImage is the change of Postgres image to rehearse: the first,
// by head path, whose reference changes on a database image.
func rehearsedImage(images []facts.Pair) (facts.Pair, bool) {
	var cands []facts.Pair
	for _, p := range images {
		if p.Base == nil || p.Head == nil || p.Base.Image == "" || p.Head.Image == "" || p.Base.Image == p.Head.Image {
			continue
		}
		if p.Base.IsDatabase() && p.Head.IsDatabase() {
			cands = append(cands, p)
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].Head.File != cands[j].Head.File {
			return cands[i].Head.File < cands[j].Head.File
		}
		return cands[i].Head.Line < cands[j].Head.Line
	})
	if len(cands) == 0 {
		return facts.Pair{}, false
	}
	return cands[0], true
}

// rehearsalDirs are the directories the change touched and the
// configured SQL directories it did not: the data the rollout meets is
// every schema, not only the one that changes.
func (rd *reader) rehearsalDirs(ctx context.Context, set *change.Set, base, head *inventory, touched []verify.Dir) ([]verify.Dir, error) {
	out := append([]verify.Dir(nil), touched...)
	have := map[string]bool{}
	for _, d := range touched {
		have[d.Dir] = true
	}
	for _, m := range rd.cfg.Migrations {
		if m.Dir == "" || m.Command != "" || have[path.Clean(m.Dir)] {
			continue
		}
		m.Dir = path.Clean(m.Dir)
		bset, _, err := rd.loadMigrations(ctx, set.Base, base, m)
		if err != nil {
			return nil, fmt.Errorf("rehearse: %w", err)
		}
		hset, _, err := rd.loadMigrations(ctx, set.Head, head, m)
		if err != nil {
			return nil, fmt.Errorf("rehearse: %w", err)
		}
		if hset != nil {
			out = append(out, verify.Dir{Dir: m.Dir, Base: bset, Head: hset})
			have[m.Dir] = true
		}
	}
	return out, nil
}

package action

import (
	"context"
	"errors"

	"github.com/breakwater-ci/breakwater/internal/report"
)

// ghPublisher is filled in when internal/github lands.
type ghPublisher struct{}

func (r *run) publisher() (*ghPublisher, error) { return nil, errors.New("not yet") }

func (p *ghPublisher) comment(ctx context.Context, pr int, key string, rep *report.Report, mode, summaryURL string) (string, error) {
	return "", nil
}

func (p *ghPublisher) checkRun(ctx context.Context, sha, name string, rep *report.Report, conclusion, summaryURL string) (string, error) {
	return "", nil
}

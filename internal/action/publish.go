package action

import (
	"context"
	"time"

	"github.com/breakwater-ci/breakwater/internal/github"
	"github.com/breakwater-ci/breakwater/internal/report"
)

// publishTimeout bounds all GitHub writes of one run: the retry policy
// can wait minutes on rate limits, and a comment is not worth a hung job.
const publishTimeout = 5 * time.Minute

// ghPublisher posts the comment and the check run.
type ghPublisher struct {
	c *github.Client
}

func (r *run) publisher() (*ghPublisher, error) {
	c, err := github.NewClient(r.in.Token, r.ghctx.APIURL, r.ghctx.Repository,
		github.WithLogf(func(format string, args ...any) { r.a.Infof("breakwater: "+format+"\n", args...) }))
	if err != nil {
		return nil, err
	}
	return &ghPublisher{c: c}, nil
}

func (p *ghPublisher) comment(ctx context.Context, pr int, key string, rep *report.Report, mode, summaryURL string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	m, err := github.ParseCommentMode(mode)
	if err != nil {
		return "", err
	}
	return p.c.UpsertComment(ctx, pr, key, rep, github.CommentOptions{Mode: m, SummaryURL: summaryURL})
}

func (p *ghPublisher) checkRun(ctx context.Context, sha, name string, rep *report.Report, conclusion, summaryURL string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	return p.c.PublishCheckRun(ctx, rep, github.CheckRunOptions{
		Name: name, HeadSHA: sha, Conclusion: conclusion, DetailsURL: summaryURL, SummaryURL: summaryURL,
	})
}

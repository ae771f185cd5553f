package action

import (
	"os"
	"path/filepath"
	"testing"
)

const (
	baseSHA  = "1111111111111111111111111111111111111111"
	headSHA  = "2222222222222222222222222222222222222222"
	mergeSHA = "3333333333333333333333333333333333333333"
)

func TestResolveTarget(t *testing.T) {
	tests := []struct {
		fixture, event string
		sha            string
		inBase, inHead string
		want           Target
		wantErr        bool
	}{
		{fixture: "pull_request.json", event: "pull_request", sha: mergeSHA,
			want: Target{Base: baseSHA, Head: mergeSHA, PR: 42, CheckSHA: headSHA}},
		{fixture: "pull_request_target.json", event: "pull_request_target", sha: baseSHA,
			want: Target{Base: baseSHA, Head: headSHA, PR: 42, CheckSHA: headSHA}},
		{fixture: "merge_group.json", event: "merge_group", sha: headSHA,
			want: Target{Base: baseSHA, Head: headSHA, CheckSHA: headSHA}},
		{fixture: "push.json", event: "push", sha: headSHA,
			want: Target{Base: baseSHA, Head: headSHA, CheckSHA: headSHA}},
		{fixture: "push-new-branch.json", event: "push", sha: headSHA,
			want: Target{Base: "", Head: headSHA, CheckSHA: headSHA}},
		{fixture: "workflow_dispatch.json", event: "workflow_dispatch", sha: mergeSHA,
			want: Target{Base: baseSHA, Head: headSHA, CheckSHA: mergeSHA}},
		{fixture: "pull_request.json", event: "pull_request", sha: mergeSHA, inBase: "origin/release", inHead: "HEAD",
			want: Target{Base: "origin/release", Head: "HEAD", PR: 42, CheckSHA: headSHA}},
		{fixture: "push.json", event: "schedule", sha: headSHA, wantErr: true},
		{fixture: "push.json", event: "schedule", sha: headSHA, inBase: "main",
			want: Target{Base: "main", Head: headSHA, CheckSHA: headSHA}},
		{fixture: "push.json", event: "pull_request", sha: headSHA, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.event+"/"+tt.fixture, func(t *testing.T) {
			payload, err := os.ReadFile(filepath.Join("testdata", "events", tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			got, err := resolveTarget(tt.event, payload, tt.sha, tt.inBase, tt.inHead)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("resolveTarget = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, err := resolveTarget("push", []byte("{not json"), headSHA, "", ""); err == nil {
		t.Error("a broken event payload was accepted")
	}
}

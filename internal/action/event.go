package action

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Target is what one workflow run compares, read from its event.
type Target struct {
	Base string // commit or ref; "" for the merge base with the default branch
	Head string // commit or ref
	PR   int    // pull request number, 0 when the event has none
	// CheckSHA is the commit a check run attaches to: the PR's head
	// commit, since runs on the merge commit do not show on the PR.
	CheckSHA string
}

// event holds the fields breakwater reads from the supported payloads.
type event struct {
	Number      int `json:"number"`
	PullRequest *struct {
		Number int `json:"number"`
		Base   struct {
			SHA string `json:"sha"`
		} `json:"base"`
		Head struct {
			SHA string `json:"sha"`
		} `json:"head"`
	} `json:"pull_request"`
	MergeGroup *struct {
		BaseSHA string `json:"base_sha"`
		HeadSHA string `json:"head_sha"`
	} `json:"merge_group"`
	Before string         `json:"before"`
	After  string         `json:"after"`
	Inputs map[string]any `json:"inputs"`
}

const zeroSHA = "0000000000000000000000000000000000000000"

// resolveTarget works out base and head from the event, then lets the
// action's base and head inputs override them. sha is GITHUB_SHA.
func resolveTarget(name string, payload []byte, sha, inBase, inHead string) (Target, error) {
	var ev event
	if len(strings.TrimSpace(string(payload))) > 0 {
		if err := json.Unmarshal(payload, &ev); err != nil {
			return Target{}, fmt.Errorf("read the %s event: %w", name, err)
		}
	}
	var t Target
	switch name {
	case "pull_request", "pull_request_target":
		if ev.PullRequest == nil {
			return Target{}, fmt.Errorf("the %s event has no pull_request", name)
		}
		t = Target{Base: ev.PullRequest.Base.SHA, Head: ev.PullRequest.Head.SHA, PR: ev.PullRequest.Number, CheckSHA: ev.PullRequest.Head.SHA}
		if name == "pull_request" && sha != "" {
			// GITHUB_SHA is the merge commit actions/checkout checks out:
			// the PR as it would land on the base.
			t.Head = sha
		}
	case "merge_group":
		if ev.MergeGroup == nil {
			return Target{}, fmt.Errorf("the merge_group event has no merge_group")
		}
		t = Target{Base: ev.MergeGroup.BaseSHA, Head: ev.MergeGroup.HeadSHA, CheckSHA: ev.MergeGroup.HeadSHA}
	case "push":
		t = Target{Base: ev.Before, Head: ev.After, CheckSHA: ev.After}
		if t.Base == zeroSHA {
			t.Base = "" // a new branch: compare with the default branch
		}
	case "workflow_dispatch":
		t = Target{Base: stringInput(ev.Inputs, "base"), Head: stringInput(ev.Inputs, "head"), CheckSHA: sha}
	default:
		if inBase == "" && inHead == "" {
			return Target{}, fmt.Errorf("event %q is not supported (pull_request, pull_request_target, merge_group, push, workflow_dispatch); pass the base and head inputs", name)
		}
		t.CheckSHA = sha
	}
	if inBase != "" {
		t.Base = inBase
	}
	if inHead != "" {
		t.Head = inHead
	}
	if t.Head == "" {
		t.Head = sha
	}
	if t.Head == "" {
		t.Head = "HEAD"
	}
	if t.CheckSHA == "" {
		t.CheckSHA = sha
	}
	return t, nil
}

func stringInput(in map[string]any, k string) string {
	if s, ok := in[k].(string); ok {
		return strings.TrimSpace(s)
	}
	return ""
}

package docker

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// maxPullLine bounds one line of the pull progress stream; real lines are
// a few hundred bytes.
const maxPullLine = 1 << 20

// ImagePresent reports whether the daemon has the image ref locally.
func (c *Client) ImagePresent(ctx context.Context, ref string) (bool, error) {
	err := c.doJSON(ctx, http.MethodGet, "/images/"+escapeRef(ref)+"/json", nil, nil, nil, http.StatusOK)
	switch {
	case err == nil:
		return true, nil
	case IsNotFound(err):
		return false, nil
	}
	return false, err
}

// PullImage pulls ref from its registry, anonymously. It returns when the
// daemon ends the progress stream, with the stream's error if it sent one:
// the daemon answers 200 before it knows whether the pull will work.
func (c *Client) PullImage(ctx context.Context, ref string) error {
	repo, tag, ok := splitRef(ref)
	if !ok {
		return fmt.Errorf("docker: pull %q: not an image reference", ref)
	}
	q := url.Values{"fromImage": {repo}, "tag": {tag}}
	resp, err := c.do(ctx, http.MethodPost, "/images/create", q, nil, http.StatusOK)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxPullLine)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := json.Unmarshal([]byte(line), &msg); err != nil {
			return fmt.Errorf("docker: pull %s: unreadable progress line %.200q: %w", ref, line, err)
		}
		if msg.ErrorDetail != nil && msg.ErrorDetail.Message != "" {
			return fmt.Errorf("docker: pull %s: %s", ref, msg.ErrorDetail.Message)
		}
		if msg.Error != "" {
			return fmt.Errorf("docker: pull %s: %s", ref, msg.Error)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("docker: pull %s: reading progress: %w", ref, err)
	}
	return nil
}

// splitRef splits an image reference into what POST /images/create takes:
// the repository, and the tag or digest ("latest" when there is neither).
// A digest wins over a tag, as it does for the docker CLI.
func splitRef(ref string) (repo, tag string, ok bool) {
	name, digest, hasDigest := strings.Cut(ref, "@")
	// A colon after the last slash starts a tag; one before it is a
	// registry's port, as in localhost:5000/pg.
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name, tag = name[:i], name[i+1:]
		if tag == "" {
			return "", "", false
		}
	}
	if name == "" || strings.HasSuffix(name, "/") {
		return "", "", false
	}
	if hasDigest {
		if digest == "" {
			return "", "", false
		}
		return name, digest, true
	}
	if tag == "" {
		tag = "latest"
	}
	return name, tag, true
}

// escapeRef escapes an image reference for /images/{name}/json. The
// daemon's route takes the name's slashes literally (docker's own client
// sends the reference unescaped), so only the segments between them are
// escaped; ':' and '@' are legal in a path and stay.
func escapeRef(ref string) string {
	segs := strings.Split(ref, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

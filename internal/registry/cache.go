package registry

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// The cache holds one JSON file per manifest digest and platform:
//
//	<dir>/v1/<algorithm>/<hex>/<os>-<arch>[-<variant>].json
//
// for example ~/.cache/breakwater/images/v1/sha256/3f1c…/linux-amd64.json.
// A digest names immutable content, so an entry never goes stale; a format
// change bumps the v1 directory.
const cacheVersion = 1

type cacheEntry struct {
	Version  int       `json:"version"`
	Platform string    `json:"platform"`
	ReadAt   time.Time `json:"read_at"`
	Facts    Facts     `json:"facts"`
}

var (
	digestRE   = regexp.MustCompile(`^(sha256|sha384|sha512):([a-f0-9]{32,128})$`)
	platformRE = regexp.MustCompile(`[^a-z0-9._]+`)
)

// cachePath is "" when the cache is off or the digest is not a plain
// digest (a hostile registry must not steer a path).
func (r *Resolver) cachePath(digest, platform string) string {
	if r.cacheDir == "" {
		return ""
	}
	m := digestRE.FindStringSubmatch(digest)
	if m == nil {
		return ""
	}
	p := strings.Trim(platformRE.ReplaceAllString(strings.ToLower(platform), "-"), "-")
	if p == "" {
		p = "default"
	}
	return filepath.Join(r.cacheDir, "v1", m[1], m[2], p+".json")
}

// cacheGet returns the cached facts, or nil when there are none or the
// file is unreadable or corrupt (it is then rewritten after the read).
func (r *Resolver) cacheGet(digest, platform string) *Facts {
	p := r.cachePath(digest, platform)
	if p == "" {
		return nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	var e cacheEntry
	if err := json.Unmarshal(b, &e); err != nil || e.Version != cacheVersion || e.Facts.Digest != digest || e.Platform != platform {
		return nil
	}
	return &e.Facts
}

// cachePut writes atomically: a temporary file in the same directory,
// renamed over the entry. A failure only costs a later re-read.
func (r *Resolver) cachePut(digest, platform string, f *Facts) {
	p := r.cachePath(digest, platform)
	if p == "" {
		return
	}
	b, err := json.MarshalIndent(cacheEntry{Version: cacheVersion, Platform: platform, ReadAt: time.Now().UTC(), Facts: *f}, "", "  ")
	if err != nil {
		return
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*.json")
	if err != nil {
		return
	}
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
	}
}

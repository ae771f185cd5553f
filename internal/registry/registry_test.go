package registry

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/breakwater-ci/breakwater/internal/imageref"
)

// testRegistry is go-containerregistry's in-process registry behind a
// handler that records every request it serves.
type testRegistry struct {
	host string
	mu   sync.Mutex
	reqs []string // "METHOD /path"
}

func newTestRegistry(t *testing.T) *testRegistry {
	t.Helper()
	tr := &testRegistry{}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.mu.Lock()
		tr.reqs = append(tr.reqs, r.Method+" "+r.URL.Path)
		tr.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	tr.host = strings.TrimPrefix(srv.URL, "http://")
	return tr
}

func (tr *testRegistry) reset() {
	tr.mu.Lock()
	tr.reqs = nil
	tr.mu.Unlock()
}

func (tr *testRegistry) requests() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.reqs...)
}

// count counts requests whose path holds sub ("/manifests/", "/blobs/").
func (tr *testRegistry) count(sub string) int {
	n := 0
	for _, r := range tr.requests() {
		if strings.Contains(r, sub) {
			n++
		}
	}
	return n
}

func (tr *testRegistry) push(t *testing.T, ref string, img v1.Image) string {
	t.Helper()
	r, err := name.ParseReference(tr.host + "/" + ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// resolver makes a Resolver that reads no credentials from the host.
func resolver(t *testing.T, cache string, opts ...Option) *Resolver {
	return New(append([]Option{WithCacheDir(cache), WithKeychain(authn.NewMultiKeychain())}, opts...)...)
}

func TestResolve(t *testing.T) {
	reg := newTestRegistry(t)
	tests := []struct {
		name    string
		env     []string
		layers  func(testing.TB) []*testLayer
		os, rel string
		libc    imageref.Libc
		icu     string
		pg      string
		pgVer   string
	}{
		{"debian11", []string{"PG_MAJOR=11", "PG_VERSION=11.22-1.pgdg110+2"}, debian11,
			"debian", "bullseye", imageref.Libc{Family: "glibc", Version: "2.31"}, "67", "11", "11.22-1.pgdg110+2"},
		{"debian12", []string{"PG_MAJOR=12", "PG_VERSION=12.20-1.pgdg120+1"}, debian12,
			"debian", "bookworm", imageref.Libc{Family: "glibc", Version: "2.36"}, "72", "12", "12.20-1.pgdg120+1"},
		{"alpine", []string{"PG_MAJOR=16", "PG_VERSION=16.4"}, alpine320,
			"alpine", "3.20", imageref.Libc{Family: "musl", Version: "1.2.5"}, "74", "16", "16.4"},
		{"dpkg-whiteout", []string{"PG_MAJOR=12"}, func(t testing.TB) []*testLayer {
			return append(debian12(t), layer(t, whiteout("var/lib/dpkg/status")))
		}, "debian", "bookworm", imageref.Libc{Family: "glibc"}, "", "12", ""},
		{"os-release-symlink", nil, func(t testing.TB) []*testLayer {
			return []*testLayer{layer(t, symlink("etc/os-release", "../usr/lib/os-release"), file("usr/lib/os-release", osReleaseBullseye),
				file("var/lib/dpkg/status", dpkgStatus("2.31-13", "67")))}
		}, "debian", "bullseye", imageref.Libc{Family: "glibc", Version: "2.31"}, "67", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			digest := reg.push(t, "acme/"+tt.name+":1", image(t, amd64, tt.env, tt.layers(t)...))
			r := resolver(t, t.TempDir())
			f, err := r.Resolve(context.Background(), reg.host+"/acme/"+tt.name+":1")
			if err != nil {
				t.Fatal(err)
			}
			if f.Digest != digest || f.ImageDigest != digest || f.Platform != "linux/amd64" {
				t.Errorf("digest %s image %s platform %s, want %s", f.Digest, f.ImageDigest, f.Platform, digest)
			}
			if f.OS != tt.os || f.Release != tt.rel || f.Libc != tt.libc || f.ICU != tt.icu {
				t.Errorf("got %q %q %+v ICU %q, want %q %q %+v %q (note %q)", f.OS, f.Release, f.Libc, f.ICU, tt.os, tt.rel, tt.libc, tt.icu, f.Note)
			}
			if f.PostgresMajor.String() != tt.pg || f.PostgresVersion != tt.pgVer {
				t.Errorf("postgres %q %q, want %q %q", f.PostgresMajor, f.PostgresVersion, tt.pg, tt.pgVer)
			}
		})
	}
}

func TestResolveReadsTopDownOnly(t *testing.T) {
	reg := newTestRegistry(t)
	lower1, lower2 := junkLayer(t, 256<<10), junkLayer(t, 256<<10)
	top := layer(t, file("etc/os-release", osReleaseBookworm), file("var/lib/dpkg/status", dpkgStatus("2.36-9+deb12u4", "72")))
	reg.push(t, "acme/pg:top", image(t, amd64, []string{"PG_MAJOR=16"}, lower1, lower2, top))
	reg.reset()

	f, err := resolver(t, "", WithInsecureRegistries(reg.host)).Resolve(context.Background(), reg.host+"/acme/pg:top")
	if err != nil {
		t.Fatal(err)
	}
	if f.Libc.Version != "2.36" || f.PostgresMajor != 1600 {
		t.Fatalf("got %+v", f)
	}
	for _, l := range []*testLayer{lower1, lower2} {
		if n := reg.count("/blobs/" + l.digest.String()); n != 0 {
			t.Errorf("lower layer %s fetched %d times", l.digest, n)
		}
	}
	if n := reg.count("/blobs/" + top.digest.String()); n != 1 {
		t.Errorf("top layer fetched %d times, want 1", n)
	}
	t.Logf("requests: %q", reg.requests())
}

func TestCache(t *testing.T) {
	reg := newTestRegistry(t)
	digest := reg.push(t, "acme/pg:11", image(t, amd64, []string{"PG_MAJOR=11"}, debian11(t)...))
	tag := reg.host + "/acme/pg:11"
	cache := t.TempDir()
	ctx := context.Background()

	reg.reset()
	r := resolver(t, cache)
	first, err := r.Resolve(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	if reg.count("/blobs/") == 0 {
		t.Fatalf("first resolve read no blobs: %q", reg.requests())
	}
	path := filepath.Join(cache, "v1", "sha256", strings.TrimPrefix(digest, "sha256:"), "linux-amd64.json")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("cache entry: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left: %q", left)
	}

	t.Run("tag, same resolver: one manifest HEAD", func(t *testing.T) {
		reg.reset()
		f, err := r.Resolve(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		if *f != *first {
			t.Errorf("cached %+v, want %+v", f, first)
		}
		if got := reg.requests(); len(got) != 1 || got[0] != "HEAD /v2/acme/pg/manifests/11" {
			t.Errorf("requests %q, want exactly the manifest HEAD", got)
		}
	})
	t.Run("tag, next run: one manifest request, no blob", func(t *testing.T) {
		reg.reset()
		f, err := resolver(t, cache).Resolve(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		if *f != *first {
			t.Errorf("cached %+v, want %+v", f, first)
		}
		// A new process pings /v2/ once to learn the registry's auth.
		for _, q := range reg.requests() {
			if q != "GET /v2/" && q != "HEAD /v2/acme/pg/manifests/11" {
				t.Errorf("unexpected request %q", q)
			}
		}
		if n := reg.count("/manifests/"); n != 1 {
			t.Errorf("%d manifest requests, want 1", n)
		}
		if n := reg.count("/blobs/"); n != 0 {
			t.Errorf("%d blob requests, want 0", n)
		}
	})
	t.Run("digest: no request at all", func(t *testing.T) {
		reg.reset()
		f, err := resolver(t, cache).Resolve(ctx, reg.host+"/acme/pg@"+digest)
		if err != nil {
			t.Fatal(err)
		}
		if *f != *first {
			t.Errorf("cached %+v, want %+v", f, first)
		}
		if got := reg.requests(); len(got) != 0 {
			t.Errorf("requests %q, want none", got)
		}
		// Tag and digest: the digest rules, as for docker pull.
		if _, err := resolver(t, cache).Resolve(ctx, tag+"@"+digest); err != nil || len(reg.requests()) != 0 {
			t.Errorf("tag@digest: %v, requests %q", err, reg.requests())
		}
	})
	t.Run("corrupt entry is ignored and rewritten", func(t *testing.T) {
		if err := os.WriteFile(path, []byte(`{"version":1,"facts":{"digest":`), 0o644); err != nil {
			t.Fatal(err)
		}
		reg.reset()
		f, err := resolver(t, cache).Resolve(ctx, reg.host+"/acme/pg@"+digest)
		if err != nil {
			t.Fatal(err)
		}
		if *f != *first || reg.count("/blobs/") == 0 {
			t.Errorf("got %+v after %q", f, reg.requests())
		}
		reg.reset()
		if _, err := resolver(t, cache).Resolve(ctx, reg.host+"/acme/pg@"+digest); err != nil || len(reg.requests()) != 0 {
			t.Errorf("rewritten entry not used: %v %q", err, reg.requests())
		}
	})
	t.Run("disabled", func(t *testing.T) {
		reg.reset()
		if _, err := resolver(t, "").Resolve(ctx, reg.host+"/acme/pg@"+digest); err != nil {
			t.Fatal(err)
		}
		if reg.count("/blobs/") == 0 {
			t.Errorf("no blob read with the cache off: %q", reg.requests())
		}
	})
}

func TestResolveIndex(t *testing.T) {
	reg := newTestRegistry(t)
	arm64 := v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
	deb := image(t, amd64, []string{"PG_MAJOR=17"}, debian12(t)...)
	alp := image(t, arm64, []string{"PG_MAJOR=17"}, alpine320(t)...)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: deb, Descriptor: v1.Descriptor{Platform: &amd64}},
		mutate.IndexAddendum{Add: alp, Descriptor: v1.Descriptor{Platform: &arm64}})
	ref, _ := name.ParseReference(reg.host + "/library/postgres:17")
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()
	debDigest, _ := deb.Digest()
	alpDigest, _ := alp.Digest()
	cache := t.TempDir()

	f, err := resolver(t, cache).Resolve(context.Background(), ref.String())
	if err != nil {
		t.Fatal(err)
	}
	if f.Digest != idxDigest.String() || f.ImageDigest != debDigest.String() || f.OS != "debian" || f.Platform != "linux/amd64" {
		t.Errorf("default platform: %+v", f)
	}
	f, err = resolver(t, cache, WithPlatform(arm64)).Resolve(context.Background(), ref.String())
	if err != nil {
		t.Fatal(err)
	}
	if f.Digest != idxDigest.String() || f.ImageDigest != alpDigest.String() || f.OS != "alpine" || f.Platform != "linux/arm64/v8" {
		t.Errorf("arm64: %+v", f)
	}
	entries, _ := filepath.Glob(filepath.Join(cache, "v1", "sha256", strings.TrimPrefix(idxDigest.String(), "sha256:"), "*.json"))
	if len(entries) != 2 {
		t.Errorf("cache entries %q, want one per platform", entries)
	}
}

func TestResolveErrors(t *testing.T) {
	reg := newTestRegistry(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedHost := strings.TrimPrefix(closed.URL, "http://")
	closed.Close()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	hangHost := strings.TrimPrefix(hang.URL, "http://")

	tests := []struct {
		ref  string
		opts []Option
		kind Kind
		op   string
	}{
		{ref: closedHost + "/acme/pg:1", kind: KindUnreachable, op: "resolving the tag"},
		{ref: "127.0.0.1:1/acme/pg:1", kind: KindUnreachable, op: "resolving the tag"},
		{ref: "127.0.0.1:1/acme/pg@sha256:" + strings.Repeat("a", 64), kind: KindUnreachable, op: "reading the manifest"},
		{ref: reg.host + "/acme/missing:1", kind: KindNotFound, op: "reading the manifest"},
		{ref: hangHost + "/acme/pg:1", opts: []Option{WithTimeout(300 * time.Millisecond)}, kind: KindTimeout},
		{ref: "Not A Reference", kind: KindInvalid, op: "parsing the reference"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			start := time.Now()
			f, err := resolver(t, t.TempDir(), tt.opts...).Resolve(context.Background(), tt.ref)
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("took %s", took)
			}
			var e *Error
			if f != nil || !errors.As(err, &e) {
				t.Fatalf("got %+v, %v", f, err)
			}
			if e.Kind != tt.kind || !strings.Contains(e.Op, tt.op) || !strings.Contains(err.Error(), tt.ref) {
				t.Errorf("kind %v op %q: %v", e.Kind, e.Op, err)
			}
			if tt.kind == KindTimeout && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("timeout is not DeadlineExceeded: %v", err)
			}
			t.Logf("%v", err)
		})
	}
}

// TestCredentialsNeverPrinted: a registry that refuses the credentials of
// the docker config, and echoes the Authorization header back in its
// error body, must not get them into the error text.
func TestCredentialsNeverPrinted(t *testing.T) {
	const user, pass = "breakwater-bot", "s3cr3t-Pa55w0rd-XYZ"
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	echo := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials: %s","detail":%q}]}`, r.Header.Get("Authorization"), r.URL.RawQuery)
	}
	for _, scheme := range []string{"basic", "bearer", "bearer-raw-body"} {
		t.Run(scheme, func(t *testing.T) {
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case scheme == "basic":
					w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
					echo(w, r)
				case r.URL.Path == "/token" && scheme == "bearer-raw-body":
					w.WriteHeader(http.StatusUnauthorized)
					fmt.Fprintf(w, "denied for %s (%s)", r.Header.Get("Authorization"), pass)
				case r.URL.Path == "/token":
					echo(w, r)
				default:
					w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="test"`, srv.URL))
					echo(w, r)
				}
			}))
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			dir := t.TempDir()
			cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, basic)
			if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("DOCKER_CONFIG", dir)

			// The default keychain: DOCKER_CONFIG.
			_, err := New(WithCacheDir("")).Resolve(context.Background(), host+"/acme/private:1")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v", err)
			}
			msg := err.Error()
			t.Logf("%s", msg)
			for _, secret := range []string{pass, basic} {
				if strings.Contains(msg, secret) {
					t.Errorf("error shows a credential: %s", msg)
				}
			}
			if e.Kind != KindAuth || !strings.Contains(msg, host+"/acme/private:1") {
				t.Errorf("kind %v: %s", e.Kind, msg)
			}
		})
	}
}

func TestIdentity(t *testing.T) {
	reg := newTestRegistry(t)
	reg.push(t, "acme/postgres-12.6:tag", image(t, amd64, []string{"PG_MAJOR=12"}, debian12(t)...))
	ref, err := imageref.Parse(reg.host + "/acme/postgres-12.6:tag")
	if err != nil {
		t.Fatal(err)
	}
	id, err := Identities{R: resolver(t, t.TempDir())}.Resolve(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	want := imageref.Identity{Ref: ref, Known: true, OS: "debian", Release: "bookworm", Libc: imageref.Libc{Family: "glibc", Version: "2.36"},
		ICU: "72", PostgresMajor: 1200, Database: true, Source: imageref.SourceRegistry}
	id.Note = ""
	if fmt.Sprint(id) != fmt.Sprint(want) {
		t.Errorf("got  %+v\nwant %+v", id, want)
	}
	for _, fact := range []string{imageref.FactOS, imageref.FactLibc, imageref.FactICU, imageref.FactPostgres} {
		if id.SourceOf(fact) != imageref.SourceRegistry {
			t.Errorf("%s from %q", fact, id.SourceOf(fact))
		}
	}

	// Nothing known: not Known, not a database.
	id = (&Facts{Digest: "sha256:00"}).Identity(ref)
	if id.Known || id.Database {
		t.Errorf("empty facts: %+v", id)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if d := DefaultCacheDir(); d != "/x/cache/breakwater/images" {
		t.Errorf("got %q", d)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if d := DefaultCacheDir(); d != "/home/u/.cache/breakwater/images" {
		t.Errorf("got %q", d)
	}
}

func TestCachePathRejectsHostileDigests(t *testing.T) {
	r := New(WithCacheDir("/c"))
	for _, d := range []string{"sha256:../../etc", "sha256:" + strings.Repeat("A", 64), "md5:abc", ""} {
		if p := r.cachePath(d, "linux/amd64"); p != "" {
			t.Errorf("cachePath(%q) = %q", d, p)
		}
	}
	if p := r.cachePath("sha256:"+strings.Repeat("a", 64), "linux/arm64/v8"); p != "/c/v1/sha256/"+strings.Repeat("a", 64)+"/linux-arm64-v8.json" {
		t.Errorf("got %q", p)
	}
}

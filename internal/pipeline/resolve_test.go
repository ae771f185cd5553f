package pipeline

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/breakwater-ci/breakwater/internal/registry"
	"github.com/breakwater-ci/breakwater/internal/testgit"
)

// pushImage pushes an image with the given files and env to an in-process
// registry and returns its digest reference.
func pushImage(t *testing.T, host, repo string, env []string, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for p, body := range files {
		tw.WriteHeader(&tar.Header{Name: p, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Config.Env = "linux", "amd64", env
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host+"/"+repo, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	return d.String()
}

const (
	bullseye = "ID=debian\nVERSION_CODENAME=bullseye\n"
	bookworm = "ID=debian\nVERSION_CODENAME=bookworm\n"
)

func dpkg(libc, icu string) string {
	return "Package: libc6\nStatus: install ok installed\nVersion: " + libc + "\n\nPackage: libicu" + icu + "\nStatus: install ok installed\nVersion: " + icu + ".1-3\n"
}

// A digest-only change, same tag, is compared by what the images hold.
func TestResolveDigestOnlyChanges(t *testing.T) {
	var requests atomic.Int64
	reg := ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	old := pushImage(t, host, "acme/pg:stable", []string{"PG_MAJOR=11"},
		map[string]string{"etc/os-release": bullseye, "var/lib/dpkg/status": dpkg("2.31-13+deb11u5", "67")})
	glibc := pushImage(t, host, "acme/pg:stable", []string{"PG_MAJOR=11"},
		map[string]string{"etc/os-release": bookworm, "var/lib/dpkg/status": dpkg("2.36-9+deb12u4", "72")})
	major := pushImage(t, host, "acme/pg:stable", []string{"PG_MAJOR=12"},
		map[string]string{"etc/os-release": bullseye, "var/lib/dpkg/status": dpkg("2.31-13+deb11u5", "67")})

	cache := t.TempDir()
	resolver := registry.Identities{R: registry.New(registry.WithCacheDir(cache), registry.WithInsecureRegistries(host))}
	for _, tt := range []struct {
		name, to string
		want     string
	}{
		{"Debian 11 to 12", glibc, "image/collation-change"},
		{"Postgres 11 to 12", major, "postgres/major-upgrade"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := testgit.New(t)
			g.Write("k8s/db.yaml", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  template:\n    spec:\n      containers:\n        - name: postgres\n          image: "+host+"/acme/pg:stable@"+old+"\n")
			base := g.Commit("base")
			g.Write("k8s/db.yaml", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  template:\n    spec:\n      containers:\n        - name: postgres\n          image: "+host+"/acme/pg:stable@"+tt.to+"\n")
			head := g.Commit("head")

			res, err := Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head, Resolver: resolver})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range res.Report.Findings {
				if f.Rule == tt.want && strings.Contains(f.Evidence, "registry") {
					found = true
				}
				if f.Rule == "image/identity-changed" {
					t.Errorf("identity-changed though both images were read: %s", f.Message)
				}
			}
			if !found {
				t.Errorf("no %s with source registry in %+v", tt.want, res.Report.Findings)
			}
		})
	}

	// Digest references are cached on disk: a second run asks nothing.
	before := requests.Load()
	g := testgit.New(t)
	g.Write("compose.yml", "services:\n  db:\n    image: "+host+"/acme/pg:stable@"+old+"\n")
	base := g.Commit("base")
	g.Write("compose.yml", "services:\n  db:\n    image: "+host+"/acme/pg:stable@"+glibc+"\n")
	head := g.Commit("head")
	fresh := registry.Identities{R: registry.New(registry.WithCacheDir(cache), registry.WithInsecureRegistries(host))}
	if _, err := Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head, Resolver: fresh}); err != nil {
		t.Fatal(err)
	}
	if n := requests.Load() - before; n != 0 {
		t.Errorf("%d registry requests on a cached run, want 0", n)
	}
}

// An unreachable registry is a notice; the rest of the run is unchanged.
func TestResolveUnreachable(t *testing.T) {
	g := testgit.New(t)
	g.Write("compose.yml", "services:\n  db:\n    image: postgres:15-bookworm\n")
	base := g.Commit("base")
	g.Write("compose.yml", "services:\n  db:\n    image: 127.0.0.1:1/acme/postgres-16-alpine:1\n")
	head := g.Commit("head")
	resolver := registry.Identities{R: registry.New(registry.WithCacheDir(""), registry.WithInsecureRegistries("127.0.0.1:1"))}
	with, err := Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head, Resolver: resolver})
	if err != nil {
		t.Fatal(err)
	}
	without, err := Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head})
	if err != nil {
		t.Fatal(err)
	}
	notices := 0
	for _, f := range with.Report.Findings {
		if f.Rule == "input/skipped" && strings.Contains(f.Message, "registry") {
			notices++
		}
	}
	if notices != 1 || len(with.Report.Findings) != len(without.Report.Findings)+1 {
		t.Errorf("with an unreachable registry: %d notices, %d findings against %d without",
			notices, len(with.Report.Findings), len(without.Report.Findings))
	}
}

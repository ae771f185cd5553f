package registry

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Fixture files, shaped like the real ones.
const (
	osReleaseBullseye = `PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"
NAME="Debian GNU/Linux"
VERSION_ID="11"
VERSION="11 (bullseye)"
VERSION_CODENAME=bullseye
ID=debian
HOME_URL="https://www.debian.org/"
`
	osReleaseBookworm = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
`
	osReleaseAlpine = `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.20.3
PRETTY_NAME="Alpine Linux v3.20"
HOME_URL="https://alpinelinux.org/"
`
	osReleaseJammy = `PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
`
	osReleaseUBI9 = `NAME="Red Hat Enterprise Linux"
VERSION="9.4 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.4"
`
	osReleaseAL2023 = `NAME="Amazon Linux"
VERSION="2023"
ID="amzn"
ID_LIKE="fedora"
VERSION_ID="2023"
`
)

// dpkgStatus makes a dpkg status file with libc6 at glibc and libicuNN,
// among other packages, one of them removed.
func dpkgStatus(glibc, icu string) string {
	var b strings.Builder
	b.WriteString(`Package: base-files
Status: install ok installed
Priority: required
Version: 12.4+deb12u5
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy of a Debian system.
 .
 Package: libc6
 Version: 9.99-1

Package: libicu99
Status: deinstall ok config-files
Version: 99.1-1

`)
	if glibc != "" {
		fmt.Fprintf(&b, "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\nSource: glibc\nVersion: %s\nDepends: libgcc-s1\n\n", glibc)
	}
	if icu != "" {
		fmt.Fprintf(&b, "Package: libicu%s\nStatus: install ok installed\nVersion: %s.1-3\n\n", icu, icu)
	}
	b.WriteString("Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\n")
	return b.String()
}

func apkInstalled(musl, icu string) string {
	var b strings.Builder
	b.WriteString("C:Q1abc=\nP:alpine-baselayout\nV:3.6.5-r0\nA:x86_64\nT:Alpine base dir structure\n\n")
	fmt.Fprintf(&b, "C:Q1def=\nP:musl\nV:%s\nA:x86_64\nS:407929\nT:the musl c library (libc) implementation\nL:MIT\n\n", musl)
	if icu != "" {
		fmt.Fprintf(&b, "C:Q1ghi=\nP:icu-libs\nV:%s\nA:x86_64\nT:International Components for Unicode library\n\n", icu)
	}
	b.WriteString("C:Q1jkl=\nP:busybox\nV:1.36.1-r29\n")
	return b.String()
}

type entry struct {
	name, body, link string
	typ              byte
}

func file(name, body string) entry      { return entry{name: name, body: body, typ: tar.TypeReg} }
func symlink(name, target string) entry { return entry{name: name, link: target, typ: tar.TypeSymlink} }
func hardlink(name, target string) entry {
	return entry{name: name, link: target, typ: tar.TypeLink}
}
func dir(name string) entry { return entry{name: name, typ: tar.TypeDir} }

// whiteout hides name in the layers below.
func whiteout(name string) entry {
	i := strings.LastIndexByte(name, '/')
	return file(name[:i+1]+".wh."+name[i+1:], "")
}

// opaque hides the contents of dir in the layers below.
func opaque(dir string) entry { return file(dir+"/.wh..wh..opq", "") }

// testLayer is a gzip-compressed layer that counts how often it is opened.
type testLayer struct {
	tar, gz        []byte
	digest, diffID v1.Hash
	opened         atomic.Int32
}

func (l *testLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *testLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *testLayer) Size() (int64, error)                { return int64(len(l.gz)), nil }
func (l *testLayer) MediaType() (types.MediaType, error) { return types.DockerLayer, nil }
func (l *testLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.gz)), nil
}
func (l *testLayer) Uncompressed() (io.ReadCloser, error) {
	l.opened.Add(1)
	return io.NopCloser(bytes.NewReader(l.tar)), nil
}

// layer builds a layer from entries; names are written with a "./" prefix
// every other entry, as some builders do.
func layer(t testing.TB, entries ...entry) *testLayer {
	t.Helper()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for i, e := range entries {
		name := e.name
		if i%2 == 1 {
			name = "./" + name
		}
		h := &tar.Header{Name: name, Typeflag: e.typ, Mode: 0o644, Linkname: e.link, Size: int64(len(e.body))}
		if e.typ == tar.TypeDir {
			h.Mode, h.Name = 0o755, name+"/"
		}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var gb bytes.Buffer
	zw := gzip.NewWriter(&gb)
	zw.Write(tb.Bytes())
	zw.Close()
	l := &testLayer{tar: tb.Bytes(), gz: gb.Bytes()}
	var err error
	if l.digest, _, err = v1.SHA256(bytes.NewReader(l.gz)); err != nil {
		t.Fatal(err)
	}
	if l.diffID, _, err = v1.SHA256(bytes.NewReader(l.tar)); err != nil {
		t.Fatal(err)
	}
	return l
}

// junkLayer is a layer of incompressible files that hold nothing looked for.
func junkLayer(t testing.TB, size int) *testLayer {
	b := make([]byte, size)
	rand.Read(b)
	return layer(t, dir("usr"), dir("usr/share"), file("usr/share/junk.bin", string(b)), file("etc/hostname", "x\n"))
}

// image stacks layers (bottom first) on an empty image with config Env.
func image(t testing.TB, platform v1.Platform, env []string, layers ...*testLayer) v1.Image {
	t.Helper()
	var ls []v1.Layer
	for _, l := range layers {
		ls = append(ls, l)
	}
	img, err := mutate.AppendLayers(empty.Image, ls...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = platform.OS, platform.Architecture, platform.Variant
	cf.Config.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, env...)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

var amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}

// The fixture images of the issue.

func debian11(t testing.TB) []*testLayer {
	return []*testLayer{
		layer(t, dir("etc"), file("etc/os-release", osReleaseBullseye), file("etc/debian_version", "11.9\n"),
			dir("var"), dir("var/lib"), dir("var/lib/dpkg"), file("var/lib/dpkg/status", dpkgStatus("2.31-13+deb11u8", ""))),
		layer(t, file("var/lib/dpkg/status", dpkgStatus("2.31-13+deb11u8", "67")), file("usr/lib/x86_64-linux-gnu/libicuuc.so.67", "elf")),
	}
}

func debian12(t testing.TB) []*testLayer {
	return []*testLayer{
		layer(t, dir("etc"), symlink("etc/os-release", "../usr/lib/os-release"), file("usr/lib/os-release", osReleaseBookworm),
			file("etc/debian_version", "12.5\n"), symlink("lib", "usr/lib"), file("var/lib/dpkg/status", dpkgStatus("2.36-9+deb12u4", ""))),
		layer(t, file("var/lib/dpkg/status", dpkgStatus("2.36-9+deb12u4", "72"))),
	}
}

func alpine320(t testing.TB) []*testLayer {
	return []*testLayer{
		layer(t, file("etc/os-release", osReleaseAlpine), file("etc/alpine-release", "3.20.3\n"),
			file("lib/apk/db/installed", apkInstalled("1.2.5-r0", ""))),
		layer(t, file("lib/apk/db/installed", apkInstalled("1.2.5-r0", "74.2-r0")), file("usr/local/bin/postgres", "elf")),
	}
}

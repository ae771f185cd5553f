package registry

import (
	"context"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/breakwater-ci/breakwater/internal/imageref"
)

// scanLayers runs the scan on layers (bottom first) as Resolve does.
func scanLayers(t *testing.T, maxBytes int64, layers ...*testLayer) (*Facts, *scanner) {
	t.Helper()
	var ls []v1.Layer
	for _, l := range layers {
		ls = append(ls, l)
	}
	s := newScanner(maxBytes)
	if err := s.scan(context.Background(), ls, enough); err != nil {
		t.Fatal(err)
	}
	f := &Facts{}
	s.facts(f)
	return f, s
}

func TestScan(t *testing.T) {
	glibc := func(v string) imageref.Libc { return imageref.Libc{Family: "glibc", Version: v} }
	musl := func(v string) imageref.Libc { return imageref.Libc{Family: "musl", Version: v} }
	tests := []struct {
		name    string
		layers  func(t testing.TB) []*testLayer
		os, rel string
		libc    imageref.Libc
		icu     string
		opened  int    // layers opened, 0: don't check
		note    string // substring of Note
	}{
		{name: "debian 11", layers: debian11, os: "debian", rel: "bullseye", libc: glibc("2.31"), icu: "67", opened: 2},
		{name: "debian 12, os-release a relative symlink", layers: debian12, os: "debian", rel: "bookworm", libc: glibc("2.36"), icu: "72", opened: 2},
		{name: "alpine 3.20", layers: alpine320, os: "alpine", rel: "3.20", libc: musl("1.2.5"), icu: "74", opened: 2},
		{
			name: "whiteout of dpkg status hides the lower one",
			layers: func(t testing.TB) []*testLayer {
				return append(debian12(t), layer(t, whiteout("var/lib/dpkg/status"), file("etc/motd", "hi")))
			},
			os: "debian", rel: "bookworm", libc: glibc(""), note: "no dpkg status",
		},
		{
			name: "opaque dpkg directory hides the lower status",
			layers: func(t testing.TB) []*testLayer {
				return append(debian12(t), layer(t, dir("var/lib/dpkg"), opaque("var/lib/dpkg"), file("var/lib/dpkg/available", "")))
			},
			os: "debian", rel: "bookworm", libc: glibc(""), note: "no dpkg status",
		},
		{
			name: "whiteout of an ancestor directory",
			layers: func(t testing.TB) []*testLayer {
				return append(debian11(t), layer(t, whiteout("var/lib")))
			},
			os: "debian", rel: "bullseye", libc: glibc(""),
		},
		{
			name: "a status written above a whiteout is seen",
			layers: func(t testing.TB) []*testLayer {
				return append(debian12(t),
					layer(t, whiteout("var/lib/dpkg/status")),
					layer(t, file("var/lib/dpkg/status", dpkgStatus("2.36-9+deb12u9", "72"))))
			},
			os: "debian", rel: "bookworm", libc: glibc("2.36"), icu: "72",
		},
		{
			name: "opaque opt does not hide etc",
			layers: func(t testing.TB) []*testLayer {
				return append(debian11(t), layer(t, opaque("opt"), file("opt/x", "")))
			},
			os: "debian", rel: "bullseye", libc: glibc("2.31"), icu: "67",
		},
		{
			name: "absolute symlink",
			layers: func(t testing.TB) []*testLayer {
				return []*testLayer{layer(t, symlink("etc/os-release", "/usr/lib/os-release"), file("usr/lib/os-release", osReleaseBullseye),
					file("var/lib/dpkg/status", dpkgStatus("2.31-13", "67")))}
			},
			os: "debian", rel: "bullseye", libc: glibc("2.31"), icu: "67", opened: 1,
		},
		{
			name: "symlink in a lower layer, target in an upper one",
			layers: func(t testing.TB) []*testLayer {
				return []*testLayer{
					layer(t, symlink("etc/os-release", "../usr/lib/os-release"), file("usr/lib/os-release", osReleaseBullseye)),
					layer(t, file("usr/lib/os-release", osReleaseBookworm), file("var/lib/dpkg/status", dpkgStatus("2.36-9", "72"))),
				}
			},
			os: "debian", rel: "bookworm", libc: glibc("2.36"), icu: "72", opened: 2,
		},
		{
			name: "symlink climbing above the root stays in the image",
			layers: func(t testing.TB) []*testLayer {
				return []*testLayer{layer(t, symlink("etc/os-release", "../../../../../../usr/lib/os-release"), file("usr/lib/os-release", osReleaseBookworm),
					file("var/lib/dpkg/status", dpkgStatus("2.36-9", "72")))}
			},
			os: "debian", rel: "bookworm", libc: glibc("2.36"), icu: "72",
		},
		{
			name: "symlink to a host file reads nothing from the host",
			layers: func(t testing.TB) []*testLayer {
				return []*testLayer{layer(t, symlink("etc/os-release", "/proc/self/environ"), file("var/lib/dpkg/status", dpkgStatus("2.36-9", "72")))}
			},
			note: "no os-release",
		},
		{
			name: "symlink loop",
			layers: func(t testing.TB) []*testLayer {
				return []*testLayer{layer(t, symlink("etc/os-release", "os-release2"), symlink("etc/os-release2", "os-release"),
					symlink("usr/lib/os-release", "/etc/os-release"))}
			},
			note: "no os-release",
		},
		{
			name: "directory symlink to a path not looked for: rescan",
			layers: func(t testing.TB) []*testLayer {
				return []*testLayer{
					layer(t, file("etc/os-release", osReleaseBullseye), symlink("var", "srv/var"),
						file("srv/var/lib/dpkg/status", dpkgStatus("2.31-13", "67"))),
					layer(t, file("usr/bin/psql", "elf")),
				}
			},
			os: "debian", rel: "bullseye", libc: glibc("2.31"), icu: "67",
		},
		{
			name: "hard link",
			layers: func(t testing.TB) []*testLayer {
				return []*testLayer{layer(t, file("usr/lib/os-release", osReleaseAlpine), hardlink("etc/os-release", "usr/lib/os-release"),
					file("etc/alpine-release", "3.20.3\n"), file("lib/apk/db/installed", apkInstalled("1.2.5-r0", "74.2-r0")))}
			},
			os: "alpine", rel: "3.20", libc: musl("1.2.5"), icu: "74",
		},
		{
			name: "apk db under merged /usr",
			layers: func(t testing.TB) []*testLayer {
				return []*testLayer{layer(t, file("etc/os-release", osReleaseAlpine), file("etc/alpine-release", "3.24.0\n"),
					symlink("lib", "usr/lib"), file("usr/lib/apk/db/installed", apkInstalled("1.2.6-r0", "")))}
			},
			os: "alpine", rel: "3.24", libc: musl("1.2.6"),
		},
		{
			name: "upper layer replaces etc with a symlink",
			layers: func(t testing.TB) []*testLayer {
				return []*testLayer{
					layer(t, file("etc/os-release", osReleaseBullseye), file("usr/lib/os-release", osReleaseBullseye), file("var/lib/dpkg/status", dpkgStatus("2.31-13", "67"))),
					layer(t, file("opt/etc/os-release", osReleaseBookworm), whiteout("etc")),
					layer(t, symlink("etc", "opt/etc")),
				}
			},
			os: "debian", rel: "bookworm", libc: glibc("2.31"), icu: "67",
		},
		{
			name: "ubuntu", layers: func(t testing.TB) []*testLayer {
				return []*testLayer{layer(t, file("usr/lib/os-release", osReleaseJammy), symlink("etc/os-release", "../usr/lib/os-release"),
					file("var/lib/dpkg/status", dpkgStatus("2.35-0ubuntu3.8", "70")))}
			},
			os: "ubuntu", rel: "22.04", libc: glibc("2.35"), icu: "70", opened: 1,
		},
		{
			name: "rhel: no rpm reading", layers: func(t testing.TB) []*testLayer {
				return []*testLayer{junkLayer(t, 1000), layer(t, file("etc/os-release", osReleaseUBI9))}
			},
			os: "rhel", rel: "9", libc: glibc(""), opened: 1, note: "RPM",
		},
		{
			name: "amazon linux", layers: func(t testing.TB) []*testLayer {
				return []*testLayer{layer(t, file("etc/os-release", osReleaseAL2023))}
			},
			os: "amazonlinux", rel: "2023", libc: glibc(""),
		},
		{
			name: "no os-release, debian_version tells", layers: func(t testing.TB) []*testLayer {
				return []*testLayer{layer(t, file("etc/debian_version", "10.13\n"), file("var/lib/dpkg/status", dpkgStatus("2.28-10+deb10u2", "63")))}
			},
			os: "debian", rel: "buster", libc: glibc("2.28"), icu: "63",
		},
		{
			name: "empty image", layers: func(t testing.TB) []*testLayer { return nil }, note: "no os-release",
		},
		{
			name: "top layer has everything: lower layers never opened",
			layers: func(t testing.TB) []*testLayer {
				return append([]*testLayer{junkLayer(t, 1000), junkLayer(t, 1000)}, debian11(t)[0])
			},
			os: "debian", rel: "bullseye", libc: glibc("2.31"), opened: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			layers := tt.layers(t)
			f, s := scanLayers(t, DefaultMaxImageBytes, layers...)
			if f.OS != tt.os || f.Release != tt.rel || f.Libc != tt.libc || f.ICU != tt.icu {
				t.Errorf("got OS %q release %q libc %+v ICU %q; want %q %q %+v %q (note %q)", f.OS, f.Release, f.Libc, f.ICU, tt.os, tt.rel, tt.libc, tt.icu, f.Note)
			}
			if tt.opened != 0 && s.layersOpened != tt.opened {
				t.Errorf("opened %d layers, want %d", s.layersOpened, tt.opened)
			}
			if !strings.Contains(f.Note, tt.note) {
				t.Errorf("note %q does not say %q", f.Note, tt.note)
			}
		})
	}
}

func TestScanStopsMidLayerAndAtByteCap(t *testing.T) {
	// Everything sits at the start of the top layer; the junk after it is
	// never read.
	top := layer(t, file("etc/os-release", osReleaseBookworm), file("var/lib/dpkg/status", dpkgStatus("2.36-9", "72")),
		file("usr/share/big", strings.Repeat("x", 4<<20)))
	f, s := scanLayers(t, DefaultMaxImageBytes, junkLayer(t, 1<<20), top)
	if f.Libc.Version != "2.36" || s.layersOpened != 1 {
		t.Fatalf("libc %q, %d layers opened", f.Libc.Version, s.layersOpened)
	}
	if s.read > 1<<20 {
		t.Errorf("read %d bytes, want the top layer's head only", s.read)
	}

	// A byte cap smaller than the junk above the files stops the scan:
	// the facts are unknown, and the note says why.
	f, _ = scanLayers(t, 64<<10, debian11(t)[0], junkLayer(t, 1<<20))
	if f.OS != "" || !strings.Contains(f.Note, "stopped") {
		t.Errorf("capped scan: OS %q note %q", f.OS, f.Note)
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"./etc/os-release":     "etc/os-release",
		"/etc/os-release":      "etc/os-release",
		"etc/":                 "etc",
		"../../etc/passwd":     "etc/passwd",
		"usr/../../etc/passwd": "etc/passwd",
		".":                    "",
		"./":                   "",
	} {
		if got := cleanName(in); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParsers(t *testing.T) {
	t.Run("dpkg", func(t *testing.T) {
		for _, tt := range []struct{ status, glibc, icu string }{
			{dpkgStatus("2.31-13+deb11u8", "67"), "2.31", "67"},
			{dpkgStatus("2.36-9+deb12u4", "72"), "2.36", "72"},
			{dpkgStatus("2.35-0ubuntu3.8", "70"), "2.35", "70"},
			{dpkgStatus("", ""), "", ""},
			{"Package: libc6\nVersion: 1:2.24-11+deb9u4\n\nPackage: libicu57\nVersion: 57.1-6\n\nPackage: libicu63\nStatus: install ok installed\nVersion: 63.1-6\n", "2.24", "63"},
			{"Package: libc6\r\nStatus: install ok installed\r\nVersion: 2.28-10\r\n", "2.28", ""},
		} {
			g, i := parseDpkgStatus([]byte(tt.status))
			if g != tt.glibc || i != tt.icu {
				t.Errorf("got %q %q, want %q %q in\n%s", g, i, tt.glibc, tt.icu, tt.status)
			}
		}
	})
	t.Run("apk", func(t *testing.T) {
		m, i := parseAPKInstalled([]byte(apkInstalled("1.2.4-r2", "73.2-r2")))
		if m != "1.2.4" || i != "73" {
			t.Errorf("got %q %q", m, i)
		}
	})
	t.Run("os-release", func(t *testing.T) {
		r := parseOSRelease([]byte("# c\nID=\"debian\"\nNAME='Deb ian'\nX=\"a \\\"q\\\" \\$b\"\nbad line\n"))
		if r["ID"] != "debian" || r["NAME"] != "Deb ian" || r["X"] != `a "q" $b` {
			t.Errorf("got %q", r)
		}
	})
	t.Run("release", func(t *testing.T) {
		for _, tt := range []struct {
			os, osr, alpine, debian, want string
		}{
			{"debian", osReleaseBookworm, "", "", "bookworm"},
			{"debian", "ID=debian\nVERSION=\"8 (jessie)\"\nVERSION_ID=\"8\"\n", "", "", "jessie"},
			{"debian", "ID=debian\n", "", "10.13\n", "buster"},
			{"debian", "ID=debian\n", "", "trixie/sid\n", "trixie"},
			{"ubuntu", osReleaseJammy, "", "", "22.04"},
			{"alpine", osReleaseAlpine, "3.20.3\n", "", "3.20"},
			{"alpine", osReleaseAlpine, "", "", "3.20"},
			{"alpine", osReleaseAlpine, "3.21_alpha20240807\n", "", "3.21"},
			{"rhel", osReleaseUBI9, "", "", "9"},
			{"amazonlinux", osReleaseAL2023, "", "", "2023"},
			{"fedora", "ID=fedora\nVERSION_ID=40\n", "", "", "40"},
		} {
			if got := release(tt.os, parseOSRelease([]byte(tt.osr)), tt.alpine, tt.debian); got != tt.want {
				t.Errorf("release(%s, %q) = %q, want %q", tt.os, tt.osr, got, tt.want)
			}
		}
	})
	t.Run("postgres env", func(t *testing.T) {
		for _, tt := range []struct {
			env     []string
			major   string
			version string
		}{
			{[]string{"PG_MAJOR=11", "PG_VERSION=11.22-1.pgdg110+2"}, "11", "11.22-1.pgdg110+2"},
			{[]string{"PG_MAJOR=9.6", "PG_VERSION=9.6.24-1.pgdg90+1"}, "9.6", "9.6.24-1.pgdg90+1"},
			{[]string{"PG_VERSION=16.4"}, "16", "16.4"},
			{[]string{"PG_VERSION=18beta3"}, "18", "18beta3"},
			{[]string{"PG_MAJOR=garbage", "PG_VERSION=12.20-1.pgdg120+1"}, "12", "12.20-1.pgdg120+1"},
			{[]string{"PATH=/bin"}, "", ""},
		} {
			m, v := parsePGEnv(tt.env)
			if m.String() != tt.major || v != tt.version {
				t.Errorf("parsePGEnv(%q) = %q %q, want %q %q", tt.env, m, v, tt.major, tt.version)
			}
		}
	})
}

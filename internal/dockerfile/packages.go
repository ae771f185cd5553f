package dockerfile

import (
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/breakwater-ci/breakwater/internal/imageref"
)

// Install is a Postgres server package a stage installs.
type Install struct {
	Package string           // as written after expansion: postgresql-15, postgresql=11.1-r0
	Major   imageref.PGMajor // 0 when the package names no version
}

var (
	// A package manager installing packages; what follows is the list.
	installCmd = regexp.MustCompile(`\b(?:apk\s+(?:--\S+\s+)*add|apt-get\s+(?:-\S+\s+)*install|apt\s+(?:-\S+\s+)*install|(?:dnf|yum|microdnf|tdnf)\s+(?:-\S+\s+)*install)\b([^;&|]*)`)
	// Server package spellings, with the version in one of three places:
	//   postgresql-15, postgresql15, postgresql15-server (Debian, PGDG RPM, Alpine)
	//   postgresql=11.1-r0, postgresql=15+248 (Alpine and Debian pins)
	//   postgresql-15=15.5-1.pgdg120+1
	serverPkg = regexp.MustCompile(`^postgresql(?:-?(\d+(?:\.\d+)?))?(?:-server|-contrib)?(?:=(\d+(?:\.\d+)?)\S*)?$`)
	// Variables a RUN line may use for the version: $PG_MAJOR, ${PG_MAJOR}.
	shellVar = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)
)

// installs finds the Postgres server packages a stage installs. Variables
// set by ARG and ENV earlier in the stage (or globally) are expanded, as
// the official images write postgresql-$PG_MAJOR.
func installs(cmds []instructions.Command, global map[string]string) []Install {
	vars := map[string]string{}
	for k, v := range global {
		vars[k] = v
	}
	var out []Install
	for _, c := range cmds {
		switch c := c.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				if kv.Value != nil {
					vars[kv.Key] = *kv.Value
				}
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				vars[kv.Key] = kv.Value
			}
		case *instructions.RunCommand:
			line := shellVar.ReplaceAllStringFunc(strings.Join(c.CmdLine, " "), func(m string) string {
				if v, ok := vars[shellVar.FindStringSubmatch(m)[1]]; ok {
					return v
				}
				return m
			})
			for _, m := range installCmd.FindAllStringSubmatch(line, -1) {
				for _, word := range strings.Fields(m[1]) {
					word = strings.Trim(word, `'"\`)
					if in, ok := serverInstall(word); ok {
						out = append(out, in)
					}
				}
			}
		}
	}
	return out
}

func serverInstall(word string) (Install, bool) {
	m := serverPkg.FindStringSubmatch(word)
	if m == nil {
		return Install{}, false
	}
	in := Install{Package: word}
	// PGDG names 9.x packages without the dot: postgresql96-server.
	if len(m[1]) == 2 && m[1][0] == '9' {
		m[1] = "9." + m[1][1:]
	}
	for _, v := range []string{m[1], m[2]} {
		if v == "" {
			continue
		}
		if maj, err := imageref.ParsePGMajor(v); err == nil && in.Major == 0 {
			in.Major = maj
		}
	}
	return in, true
}

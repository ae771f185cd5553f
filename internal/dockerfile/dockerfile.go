// Package dockerfile reads the base images out of a Dockerfile: every FROM,
// with global ARGs expanded, stage references told apart from images, and
// the line it came from.
package dockerfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/imageref"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// ImageUse is one FROM instruction.
type ImageUse struct {
	File     string
	Line     int
	Index    int    // stage index, from 0
	Stage    string // stage name (AS …), "" when unnamed
	Raw      string // the FROM argument as written
	Image    string // Raw with ARGs expanded; "" when a variable is unresolved
	Platform string // --platform as written
	// Unresolved names the ARGs that had no value, so Image is unknown.
	Unresolved []string
	// StageRef is set when FROM names an earlier stage; Parent is its index.
	StageRef bool
	Parent   int
	Scratch  bool
	Last     bool // the final stage: what `docker build` produces
	// RunsPostgres is set when this stage, or a stage built on it,
	// installs or starts a Postgres server: its base image then holds the
	// database's data and collation.
	RunsPostgres bool
	// Installs are the Postgres server packages the stage (or a stage
	// built on it) installs; the first with a version gives the major.
	Installs []Install
}

// PackageMajor is the Postgres major the stage's packages install, or 0.
func (u ImageUse) PackageMajor() (imageref.PGMajor, string) {
	for _, in := range u.Installs {
		if in.Major != 0 {
			return in.Major, in.Package
		}
	}
	return 0, ""
}

// Key names the use within its file for matching and fingerprints: the
// stage name when it has one, else "final" for the last stage (stages
// added above it must not shift its identity), else its index.
func (u ImageUse) Key() string {
	switch {
	case u.Stage != "":
		return "stage:" + u.Stage
	case u.Last:
		return "final"
	}
	return "stage#" + strconv.Itoa(u.Index)
}

// Label names the use for people.
func (u ImageUse) Label() string {
	if u.Stage != "" {
		return fmt.Sprintf("stage %q", u.Stage)
	}
	if u.Last {
		return "the final stage"
	}
	return "stage " + strconv.Itoa(u.Index)
}

// IsDockerfile reports whether a path names a Dockerfile by convention:
// Dockerfile, Containerfile (any case), Dockerfile.<variant> and
// Containerfile.<variant> (as written, so dockerfile.go is source code),
// and *.Dockerfile or *.dockerfile. Templates and documents named after
// a Dockerfile (Dockerfile.md, Dockerfile.tmpl) are not Dockerfiles.
func IsDockerfile(p string) bool {
	b := path.Base(p)
	lb := strings.ToLower(b)
	switch {
	case lb == "dockerfile", lb == "containerfile":
		return true
	case strings.HasSuffix(lb, ".dockerfile") || strings.HasSuffix(lb, ".containerfile"):
		return true
	case strings.HasPrefix(b, "Dockerfile.") || strings.HasPrefix(b, "Containerfile."):
		return !notDockerfileExt[strings.ToLower(path.Ext(b))]
	}
	return false
}

// longLine refuses a line the parser cannot read. buildkit's scanner stops
// at a line over bufio.MaxScanTokenSize-1 bytes, and when no instruction
// came before it says "file with no instructions", which sends the reader
// looking for the wrong mistake. docker build fails on such a file too.
func longLine(file string, src []byte) error {
	const max = bufio.MaxScanTokenSize - 1
	for n, rest := 1, src; len(rest) > 0; n++ {
		line, next, _ := bytes.Cut(rest, []byte("\n"))
		if len(line) > max {
			return &ParseError{File: file, Line: n,
				Msg: fmt.Sprintf("line %d is %d bytes long, over the %d bytes a Dockerfile line may have", n, len(line), max)}
		}
		rest = next
	}
	return nil
}

// notDockerfileExt are extensions that make Dockerfile.<ext> something
// else: documentation, templates, source code or data.
var notDockerfileExt = map[string]bool{
	".md": true, ".txt": true, ".rst": true, ".adoc": true,
	".j2": true, ".jinja": true, ".jinja2": true, ".tmpl": true, ".tpl": true, ".template": true, ".in": true, ".erb": true, ".mustache": true,
	".go": true, ".py": true, ".js": true, ".ts": true, ".rb": true, ".sh": true, ".rs": true, ".java": true,
	".json": true, ".yml": true, ".yaml": true, ".toml": true, ".lock": true, ".orig": true, ".bak": true, ".swp": true, ".patch": true, ".diff": true,
}

// ParseError is a Dockerfile that cannot be read. Line is 0 when the
// parser did not say where.
type ParseError = finding.InputError

// Parse returns the FROM instructions of a Dockerfile in order. buildArgs
// override the defaults of global ARGs, as `docker build --build-arg` does.
func Parse(file string, src []byte, buildArgs map[string]string) ([]ImageUse, error) {
	if err := longLine(file, src); err != nil {
		return nil, err
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, parseError(file, err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, parseError(file, err)
	}
	if len(stages) == 0 {
		return nil, &ParseError{File: file, Line: 1, Msg: "no FROM instruction"}
	}
	lex := shell.NewLex(res.EscapeToken)
	env := globalArgs(lex, metaArgs, buildArgs)

	uses := make([]ImageUse, len(stages))
	stageIndex := map[string]int{}
	for i, st := range stages {
		u := ImageUse{File: file, Index: i, Stage: st.Name, Raw: st.BaseName, Platform: st.Platform, Parent: -1}
		if len(st.Location) > 0 {
			u.Line = st.Location[0].Start.Line
		}
		r, err := lex.ProcessWordWithMatches(st.BaseName, env)
		switch {
		case err != nil:
			return nil, &ParseError{File: file, Line: u.Line, Msg: fmt.Sprintf("FROM %s: %v", st.BaseName, err)}
		case len(plainRefs(st.BaseName, r.Unmatched)) > 0:
			u.Unresolved = plainRefs(st.BaseName, r.Unmatched)
		default:
			u.Image = r.Result
		}
		if j, ok := stageIndex[strings.ToLower(u.Image)]; ok && u.Image != "" {
			u.StageRef, u.Parent = true, j
		}
		u.Scratch = u.Image == "scratch"
		u.Installs = installs(st.Commands, env.vals)
		u.RunsPostgres = runsPostgres(st.Commands) || len(u.Installs) > 0
		uses[i] = u
		if st.Name != "" {
			stageIndex[strings.ToLower(st.Name)] = i
		}
	}
	uses[len(uses)-1].Last = true
	// A stage built on another carries its parent's base into the
	// database: mark the chain up to the real image.
	for i := len(uses) - 1; i >= 0; i-- {
		if uses[i].StageRef {
			p := &uses[uses[i].Parent]
			p.RunsPostgres = p.RunsPostgres || uses[i].RunsPostgres
			p.Installs = append(p.Installs, uses[i].Installs...)
		}
	}
	return uses, nil
}

// globalArgs evaluates the ARGs before the first FROM in order, so later
// defaults may use earlier ones.
func globalArgs(lex *shell.Lex, metaArgs []instructions.ArgCommand, buildArgs map[string]string) *env {
	e := &env{vals: map[string]string{}}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if v, ok := buildArgs[kv.Key]; ok {
				e.vals[kv.Key] = v
				continue
			}
			if kv.Value == nil {
				continue
			}
			// Defaults are already expanded by the instructions parser in
			// some versions and not others; expanding twice is harmless.
			if r, err := lex.ProcessWordWithMatches(*kv.Value, e); err == nil && len(r.Unmatched) == 0 {
				e.vals[kv.Key] = r.Result
			}
		}
	}
	return e
}

type env struct{ vals map[string]string }

func (e *env) Get(k string) (string, bool) { v, ok := e.vals[k]; return v, ok }
func (e *env) Keys() []string {
	keys := make([]string, 0, len(e.vals))
	for k := range e.vals {
		keys = append(keys, k)
	}
	return keys
}

// plainRefs lists the unset variables that word uses as $X or ${X}. Unset
// variables used with a modifier (${X:-default}) expand to something the
// author chose, as in docker build.
func plainRefs(word string, unset map[string]struct{}) []string {
	var out []string
	for k := range unset {
		re := regexp.MustCompile(`\$(` + regexp.QuoteMeta(k) + `([^A-Za-z0-9_]|$)|\{` + regexp.QuoteMeta(k) + `\})`)
		if re.MatchString(word) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

var (
	// A package manager installing a Postgres server package: postgresql,
	// postgresql-16, postgresql16-server, postgresql=11.1-r0. Client-only
	// packages (postgresql-client, libpq) do not count.
	installVerb   = regexp.MustCompile(`\b(apk\s+add|apt-get\s+install|apt\s+install|dnf\s+install|yum\s+install|microdnf\s+install)\b`)
	serverPackage = regexp.MustCompile(`(?:^|\s)postgresql(?:-?\d+(?:\.\d+)?)?(?:-server|-contrib)?(?:[=\s;&|]|$)`)
	// A CMD or ENTRYPOINT that starts the server.
	serverCommand = regexp.MustCompile(`(?:^|[\s/"'])(postgres|pg_ctl|pg_ctlcluster|initdb)(?:\s|$|"|')`)
)

func runsPostgres(cmds []instructions.Command) bool {
	for _, c := range cmds {
		switch c := c.(type) {
		case *instructions.RunCommand:
			line := strings.Join(c.CmdLine, " ")
			if installVerb.MatchString(line) && serverPackage.MatchString(line) {
				return true
			}
		case *instructions.CmdCommand:
			if serverCommand.MatchString(strings.Join(c.CmdLine, " ")) {
				return true
			}
		case *instructions.EntrypointCommand:
			if serverCommand.MatchString(strings.Join(c.CmdLine, " ")) {
				return true
			}
		}
	}
	return false
}

func parseError(file string, err error) error {
	pe := &ParseError{File: file, Msg: err.Error()}
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		pe.Line = le.Locations[0][0].Start.Line
		pe.Msg = le.Unwrap().Error()
	}
	// buildkit picks its "(did you mean X?)" hint by ranging over a map, so
	// between two equally close names it changes from run to run; the
	// report must not.
	pe.Msg = suggestion.ReplaceAllString(pe.Msg, "")
	return pe
}

var suggestion = regexp.MustCompile(` \(did you mean [^()]*\?\)$`)

package check

import (
	"fmt"
	"sort"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/facts"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/imageref"
)

// PGRef is one place that names a Postgres major: a database image or a
// managed engine version.
type PGRef struct {
	File  string
	Line  int
	Key   string
	Label string
	Text  string // the image or version as written
	Major imageref.PGMajor
}

// Refs collects the places with a known Postgres major.
func Refs(images []*facts.ImageUse, engines []*facts.EngineVersion) []PGRef {
	var out []PGRef
	for _, u := range images {
		if u.IsDatabase() && u.Identity.PostgresMajor != 0 {
			out = append(out, PGRef{u.File, u.Line, u.Key, u.Label, u.Image, u.Identity.PostgresMajor})
		}
	}
	for _, e := range engines {
		if e.Major != 0 {
			out = append(out, PGRef{e.File, e.Line, e.Key, e.Label, e.Version, e.Major})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out
}

func majors(refs []PGRef) []imageref.PGMajor {
	seen := map[imageref.PGMajor]bool{}
	var out []imageref.PGMajor
	for _, r := range refs {
		if !seen[r.Major] {
			seen[r.Major] = true
			out = append(out, r.Major)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Skew reports a head that names more than one Postgres major.
// touched says whether the change touched a file; the finding sits on
// the first touched place, so it shows where the reviewer is looking.
func Skew(base, head []PGRef, touched func(file string) bool) []finding.Finding {
	hm := majors(head)
	if len(hm) < 2 {
		return nil
	}
	bm := majors(base)
	inBase := map[imageref.PGMajor]bool{}
	for _, m := range bm {
		inBase[m] = true
	}
	widened := len(bm) < 2
	for _, m := range hm {
		widened = widened || !inBase[m]
	}
	at := head[0]
	for _, r := range head {
		if touched(r.File) {
			at = r
			break
		}
	}
	var names, places []string
	for _, m := range hm {
		names = append(names, m.String())
	}
	for _, r := range head {
		places = append(places, fmt.Sprintf("%s:%d %s: %s (Postgres %s)", r.File, r.Line, r.Label, r.Text, r.Major))
	}
	msg := fmt.Sprintf("The repository names %d Postgres majors (%s) across %d places: dev, CI and deploy do not run the same server.", len(hm), strings.Join(names, ", "), len(head))
	f := finding.New(VersionSkew, at.File, at.Line, "", msg)
	if widened {
		f.Message += " This change introduces or widens the skew."
	} else {
		f.Severity = finding.Warning
		f.Message += " The skew was already on the base commit."
	}
	// One skew per set of majors, wherever it is shown.
	f.Fingerprint = finding.Fingerprint(VersionSkew.ID, "", "majors:"+strings.Join(names, ","))
	f.Evidence = strings.Join(places, "\n")
	f.Remediation = "Move every environment to one Postgres major in the same release (the newest that all of them can reach), " +
		"or, while a migration is under way, declare the range you support in .breakwater.yml (postgres: {supported: \">=15 <=16\"}) and suppress this finding with a reason."
	return []finding.Finding{f}
}

// Unsupported reports every place outside the declared range.
func Unsupported(head []PGRef, supported imageref.MajorRange) []finding.Finding {
	if supported.IsZero() {
		return nil
	}
	var out []finding.Finding
	for _, r := range head {
		if supported.Contains(r.Major) {
			continue
		}
		f := finding.New(UnsupportedVersion, r.File, r.Line, r.Key,
			fmt.Sprintf("%s names Postgres %s (%s), outside the supported range %q declared in .breakwater.yml.", upperFirst(r.Label), r.Major, r.Text, supported.String()))
		f.Evidence = r.Text
		f.Remediation = "Move " + r.Label + " to a supported major, or widen postgres.supported in .breakwater.yml if the range is what is out of date."
		out = append(out, f)
	}
	return out
}

// EnginePair is a managed database's version matched across the change.
type EnginePair struct {
	Base, Head *facts.EngineVersion
}

// Engines checks managed database versions: majors that rise or fall,
// and values breakwater cannot resolve.
func Engines(pairs []EnginePair) []finding.Finding {
	var out []finding.Finding
	for _, p := range pairs {
		h := p.Head
		if h == nil {
			continue
		}
		if h.Major == 0 {
			if p.Base == nil || p.Base.Version != h.Version || p.Base.Unresolved != h.Unresolved {
				f := finding.New(UnknownVersion, h.File, h.Line, h.Key,
					fmt.Sprintf("Cannot tell the Postgres version of %s: %s. The version checks did not run on it.", h.Label, h.Unresolved))
				f.Evidence = h.Version
				f.Remediation = "Give the variable a default, or set the version literally, so breakwater can check it; or suppress this notice with a reason."
				out = append(out, f)
			}
			continue
		}
		if p.Base == nil || p.Base.Major == 0 {
			continue
		}
		out = append(out, majorChange(h.File, h.Line, h.Key, h.Label,
			p.Base.Version, h.Version, p.Base.Major, h.Major,
			"a managed "+h.Engine+" instance upgrades in place: AWS, Google Cloud and Azure run pg_upgrade for you, with downtime")...)
	}
	return out
}

// MatchEngines pairs engine versions of one file by key.
func MatchEngines(base, head []*facts.EngineVersion) []EnginePair {
	byKey := map[string]*facts.EngineVersion{}
	for _, b := range base {
		byKey[b.Key] = b
	}
	pairs := make([]EnginePair, 0, len(head))
	for _, h := range head {
		pairs = append(pairs, EnginePair{byKey[h.Key], h})
	}
	return pairs
}

// Workloads checks Kubernetes workloads that run Postgres.
func Workloads(ws []*facts.Workload) []finding.Finding {
	var out []finding.Finding
	for _, w := range ws {
		if w.Kind != "Deployment" {
			continue // a StatefulSet stops the old pod before it starts the new
		}
		for _, c := range w.Containers {
			if !c.Database || c.Init {
				continue
			}
			replicas := 1
			if w.Replicas != nil {
				replicas = *w.Replicas
			}
			rolling := w.Strategy == "" || w.Strategy == "RollingUpdate"
			var why string
			switch {
			case replicas > 1:
				why = fmt.Sprintf("it runs %d replicas of %s", replicas, c.Image)
			case rolling && len(c.DataMounts) > 0:
				strategy := "the default RollingUpdate strategy"
				if w.Strategy != "" {
					strategy = "the RollingUpdate strategy"
				}
				why = fmt.Sprintf("it uses %s with the persistent volume at %s: a rollout starts the new pod before the old one stops", strategy, strings.Join(c.DataMounts, ", "))
			default:
				continue
			}
			f := finding.New(MultiplePrimaries, w.File, w.Line, "Deployment/"+w.Name+"/container:"+c.Name,
				fmt.Sprintf("Deployment %q can run two Postgres primaries on one data directory: %s.", w.Name, why))
			f.Evidence = fmt.Sprintf("kind: Deployment, replicas: %d, strategy: %s, container %q: %s", replicas, orDefault(w.Strategy, "RollingUpdate (default)"), c.Name, c.Image)
			f.Remediation = "Run one Postgres per data directory:\n" +
				"  spec:\n    replicas: 1\n    strategy:\n      type: Recreate\n" +
				"or use a StatefulSet with one replica (it stops the old pod before starting the new one), " +
				"or an operator such as CloudNativePG or Patroni for more than one instance."
			out = append(out, f)
		}
	}
	return out
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

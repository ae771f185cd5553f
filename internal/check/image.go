// Package check holds breakwater's checks: pure functions from the facts
// of both sides of a change to findings. None of them reads files, runs
// git or talks to a database.
package check

import (
	"fmt"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/facts"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/imageref"
)

// imageCheck looks at one matched pair of image uses.
type imageCheck func(p facts.Pair) []finding.Finding

var imageChecks = []imageCheck{libcSwap, collationChange, floatingOSTag, postgresMajor, imageUnknown, identityChanged}

// Images runs every image check over the matched pairs.
func Images(pairs []facts.Pair) []finding.Finding {
	var out []finding.Finding
	for _, p := range pairs {
		if p.Head == nil {
			continue // a removed use runs nothing at head
		}
		p := implied(p)
		for _, c := range imageChecks {
			out = append(out, c(p)...)
		}
	}
	return out
}

// comparable reports whether both sides are resolved and differ, in the
// image or in the Postgres package a stage installs on it.
func comparable(p facts.Pair) bool {
	return p.Base != nil && p.Base.Image != "" && p.Head.Image != "" &&
		(p.Base.Image != p.Head.Image || p.Base.Package != p.Head.Package || !sameFacts(p.Base.Identity, p.Head.Identity))
}

// sameFacts reports whether two identities say the same of what matters:
// an image built here keeps its name while its Dockerfile changes.
func sameFacts(a, b imageref.Identity) bool {
	return a.Known == b.Known && a.OS == b.OS && a.Release == b.Release && a.Libc == b.Libc &&
		a.ICU == b.ICU && a.PostgresMajor == b.PostgresMajor
}

func newFinding(r *finding.Rule, u *facts.ImageUse, msg string) finding.Finding {
	return finding.New(r, u.File, u.Line, u.Key, upperFirst(msg))
}

// upperFirst starts a message that opens with a label ("the final stage")
// with a capital.
func upperFirst(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

func libcSwap(p facts.Pair) []finding.Finding {
	if !comparable(p) {
		return nil
	}
	from, to := p.Base.Identity.Libc.Family, p.Head.Identity.Libc.Family
	// "none" (a static distroless image) has no collation to swap.
	if from == "" || to == "" || from == "none" || to == "none" || from == to {
		return nil
	}
	db := p.Base.IsDatabase() || p.Head.IsDatabase()
	what := "Binaries and native extensions built for one C library do not run on the other"
	if db {
		what = "Text indexes built under one C library's collation are out of order under the other: queries miss rows and unique indexes admit duplicates"
	}
	f := newFinding(LibcSwap, p.Head, fmt.Sprintf("%s moves from %s to %s (%s → %s). %s.%s",
		p.Head.Label, from, to, p.Base.Image, p.Head.Image, what, weakNote(p, imageref.FactLibc)))
	f.Evidence = transition(p)
	if db {
		f.Remediation = "Keep the database image on " + from + ": pin a tag of the same OS family as before (for example " +
			suggestTag(p.Base.Identity) + ").\n" +
			"If the move is intended, do not start the new image on the old data directory as it is: dump and restore into the new image, " +
			"or REINDEX every index on text, varchar, char and citext columns with a non-C collation before serving traffic, " +
			"and confirm with amcheck (bt_index_check(index, true)) on a copy."
	} else {
		f.Severity = finding.Warning
		f.Remediation = "Rebuild everything that links against the C library for " + to + ", or keep the stage on " + from + "."
	}
	return []finding.Finding{f}
}

func collationChange(p facts.Pair) []finding.Finding {
	if !comparable(p) || !(p.Base.IsDatabase() || p.Head.IsDatabase()) {
		return nil
	}
	changes := imageref.CollationChanges(p.Base.Identity, p.Head.Identity)
	if len(changes) == 0 {
		return nil
	}
	sev := finding.Warning
	var parts []string
	for _, c := range changes {
		desc := fmt.Sprintf("%s %s → %s", c.Kind, c.From, c.To)
		switch c.Kind {
		case "libc-family":
			sev = finding.Error
			desc = fmt.Sprintf("C library %s → %s", c.From, c.To)
		case "glibc":
			desc = fmt.Sprintf("glibc %s → %s", c.From, c.To)
		case "icu":
			desc = fmt.Sprintf("ICU %s → %s", c.From, c.To)
		}
		if c.Boundary != "" {
			sev = finding.Error
			desc += " (crosses the " + c.Boundary + " collation change)"
		}
		parts = append(parts, desc)
	}
	effect := "Postgres will report a collation version mismatch, and indexes on text may sort differently than the data in them."
	if sev == finding.Error {
		effect = "The sort order of text changes under the existing data: B-tree indexes on text become silently corrupt."
	}
	f := newFinding(CollationChange, p.Head, fmt.Sprintf("%s changes collation: %s. %s%s",
		p.Head.Label, strings.Join(parts, "; "), effect, weakNote(p, imageref.FactLibc)))
	f.Severity = sev
	f.Evidence = transition(p)
	f.Remediation = reindexPlan
	return []finding.Finding{f}
}

// reindexPlan is the work a collation change needs before the new image
// serves traffic.
const reindexPlan = `Before the new image serves traffic, rebuild every index that depends on a libc or ICU collation:
1. List them:
   SELECT DISTINCT i.indexrelid::regclass AS index, i.indrelid::regclass AS table
   FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
   JOIN LATERAL unnest(i.indcollation) AS coll(oid) ON true
   JOIN pg_collation co ON co.oid = coll.oid
   WHERE co.collname NOT IN ('C', 'POSIX') AND c.relkind = 'i';
2. REINDEX INDEX CONCURRENTLY each one (or REINDEX DATABASE in a maintenance window); unique indexes may fail on duplicates the old order let in: fix those rows first.
3. Check with amcheck: CREATE EXTENSION amcheck; SELECT bt_index_check(index, true) for each index.
4. Record the new version: ALTER DATABASE name REFRESH COLLATION VERSION (Postgres 15+) and ALTER COLLATION name REFRESH VERSION.`

func floatingOSTag(p facts.Pair) []finding.Finding {
	h := p.Head
	if !p.Changed() || h.Image == "" || !h.IsDatabase() || !h.Identity.Floating {
		return nil
	}
	msg := fmt.Sprintf("%s uses %s, whose tag does not pin the OS release: the OS, glibc and collation under the data can change with no diff in this repository.", h.Label, h.Image)
	if h.Identity.Note != "" {
		msg += " " + h.Identity.Note + "."
	}
	f := newFinding(FloatingOSTag, h, msg)
	f.Evidence = h.Image + " (" + describe(h.Identity) + ")"
	f.Remediation = "Pin the OS release in the tag, for example " + suggestTag(h.Identity) + ", and pin a digest for full reproducibility."
	return []finding.Finding{f}
}

func postgresMajor(p facts.Pair) []finding.Finding {
	if !comparable(p) {
		return nil
	}
	from, to := p.Base.Identity.PostgresMajor, p.Head.Identity.PostgresMajor
	if from == 0 || to == 0 {
		return nil
	}
	fs := majorChange(p.Head.File, p.Head.Line, p.Head.Key, p.Head.Label, useText(p.Base), useText(p.Head), from, to,
		"the new server cannot open the old data directory"+weakNote(p, imageref.FactPostgres))
	for i := range fs {
		fs[i].Evidence += fmt.Sprintf(" Postgres major from: %s → %s.",
			orDefault(p.Base.Identity.SourceOf(imageref.FactPostgres), "unknown"), orDefault(p.Head.Identity.SourceOf(imageref.FactPostgres), "unknown"))
	}
	return fs
}

// majorChange reports a Postgres major that rises or falls between two
// references of one place (an image, a managed engine version). how says
// what happens to the data on an upgrade there.
func majorChange(file string, line int, key, label, fromText, toText string, from, to imageref.PGMajor, how string) []finding.Finding {
	if from == to {
		return nil
	}
	fromV, toV := from.String(), to.String()
	evidence := fmt.Sprintf("%s (Postgres %s) → %s (Postgres %s): a Postgres %s server cannot open a data directory initialised by Postgres %s.",
		fromText, fromV, toText, toV, toV, fromV)
	if to > from {
		f := finding.New(MajorUpgrade, file, line, key, upperFirst(fmt.Sprintf("%s upgrades Postgres from %s to %s: %s.", label, fromV, toV, how)))
		f.Evidence = evidence
		f.Remediation = fmt.Sprintf(`Plan the upgrade instead of swapping the version:
1. Upgrade the data: pg_upgrade (--link or --clone for speed, run --check first) from the %[1]s to the %[2]s binaries, or pg_dump/pg_restore into a fresh %[2]s cluster.
2. Check extensions: every extension must exist for %[2]s; run ALTER EXTENSION ... UPDATE afterwards.
3. Run ANALYZE (vacuumdb --all --analyze-in-stages): statistics are not carried over.
4. Roll back by keeping the %[1]s data directory (or a base backup) untouched until the new cluster is verified; there is no way back from %[2]s data to %[1]s.
5. Move dev, CI and deploy to %[2]s in the same release so no environment runs another major.`, fromV, toV)
		return []finding.Finding{f}
	}
	f := finding.New(Downgrade, file, line, key, upperFirst(fmt.Sprintf("%s downgrades Postgres from %s to %s. Postgres has no downgrade path.", label, fromV, toV)))
	f.Evidence = evidence
	f.Remediation = fmt.Sprintf("Keep Postgres %[1]s. If %[2]s is really needed, restore a %[2]s backup taken before the upgrade, or pg_dump with the %[1]s server and restore into a fresh %[2]s cluster, and expect to fix objects %[2]s does not support.", fromV, toV)
	return []finding.Finding{f}
}

func imageUnknown(p facts.Pair) []finding.Finding {
	h := p.Head
	if !p.Changed() {
		return nil
	}
	var msg string
	switch {
	case len(h.Unresolved) > 0:
		msg = fmt.Sprintf("%s: cannot resolve FROM %s: %s has no value. Set it under build-args in .breakwater.yml so the image can be checked.",
			h.Label, h.Raw, strings.Join(h.Unresolved, ", "))
	case h.RefError != "":
		msg = fmt.Sprintf("%s: %s", h.Label, h.RefError)
	case h.IsDatabase() && !h.Identity.Known && (p.Base == nil || !p.Base.Identity.Known || p.Base.Image == h.Image):
		msg = fmt.Sprintf("Cannot tell the libc of %s (%s): the libc and collation checks did not run on it. Pin a base image breakwater knows (for example postgres:17-bookworm), or suppress this notice with a reason.",
			h.Image, h.Label)
		if h.Identity.Note != "" {
			msg += " " + upperFirst(h.Identity.Note) + "."
		}
	default:
		return nil
	}
	f := newFinding(ImageUnknown, h, msg)
	f.Evidence = h.Raw
	return []finding.Finding{f}
}

func identityChanged(p facts.Pair) []finding.Finding {
	if !comparable(p) || !(p.Base.IsDatabase() || p.Head.IsDatabase()) {
		return nil
	}
	b, h := p.Base.Identity, p.Head.Identity
	var msg, fix string
	switch {
	case b.Ref.Path == h.Ref.Path && b.Ref.Tag == h.Ref.Tag && b.Ref.Digest != h.Ref.Digest:
		if b.SourceOf(imageref.FactLibc) == imageref.SourceRegistry && h.SourceOf(imageref.FactLibc) == imageref.SourceRegistry {
			return nil // both sides were read from the images: the other rules compared them
		}
		msg = fmt.Sprintf("%s changes the digest of %s from %s to %s while the tag stays: the image behind the tag changed, and its libc, collation or Postgres major may have changed with it.",
			p.Head.Label, tagged(h.Ref), short(b.Ref.Digest), short(h.Ref.Digest))
		fix = "Run breakwater with --resolve-images (the Action does by default) so it reads both images from the registry and compares what is in them; or check the new image's /etc/os-release and Postgres version by hand before merging."
	case b.Known && !h.Known:
		msg = fmt.Sprintf("%s moves from %s, whose OS and libc breakwater can tell (%s), to %s, whose it cannot: the libc and collation checks could not compare them.",
			p.Head.Label, p.Base.Image, describe(b), p.Head.Image)
		fix = "Pin a base image breakwater knows, declare the new image in .breakwater.yml (images: {NAME: {dockerfile: PATH}} or {same-as: REF}), or run with --resolve-images."
	case !b.Known && h.Known:
		msg = fmt.Sprintf("%s moves from %s, whose OS and libc breakwater cannot tell, to %s (%s): whether the libc or collation changed is unknown.",
			p.Head.Label, p.Base.Image, p.Head.Image, describe(h))
		fix = "Check what the old image ran on (its /etc/os-release), or declare it in .breakwater.yml so later changes are compared."
	default:
		return nil
	}
	f := newFinding(IdentityChanged, p.Head, msg)
	f.Evidence = transition(p)
	f.Remediation = fix
	return []finding.Finding{f}
}

func tagged(r imageref.Ref) string {
	if r.Tag == "" {
		return r.Path
	}
	return r.Path + ":" + r.Tag
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19] + "…"
	}
	return orDefault(digest, "no digest")
}

// useText names a use in evidence: its image, and the package it installs.
func useText(u *facts.ImageUse) string {
	if u.Package != "" {
		return u.Image + " + " + u.Package
	}
	return u.Image
}

// transition is the evidence line "a (facts) → b (facts)".
func transition(p facts.Pair) string {
	return fmt.Sprintf("%s (%s) → %s (%s)", p.Base.Image, describe(p.Base.Identity), p.Head.Image, describe(p.Head.Identity))
}

// describe says what is known of an image: "Debian stretch, glibc 2.24".
func describe(id imageref.Identity) string {
	var parts []string
	if id.OS != "" {
		parts = append(parts, strings.TrimSpace(osName(id.OS)+" "+id.Release))
	}
	switch id.Libc.Family {
	case "glibc":
		parts = append(parts, strings.TrimSpace("glibc "+id.Libc.Version))
	case "musl":
		parts = append(parts, "musl")
	}
	if id.ICU != "" {
		parts = append(parts, "ICU "+id.ICU)
	}
	if id.PostgresMajor != 0 {
		parts = append(parts, "Postgres "+imageref.MajorString(id.PostgresMajor))
	}
	if len(parts) == 0 {
		return "unknown OS and libc"
	}
	return strings.Join(parts, ", ") + "; " + sources(id)
}

// sources says where an identity's facts came from: "source: kb", or
// "source: kb, Postgres from package" when facts came from several places.
func sources(id imageref.Identity) string {
	s := "source: " + orDefault(id.Source, "unknown")
	for _, f := range []struct{ fact, name string }{
		{imageref.FactOS, "OS"}, {imageref.FactLibc, "libc"}, {imageref.FactICU, "ICU"}, {imageref.FactPostgres, "Postgres"},
	} {
		if src := id.SourceOf(f.fact); src != id.Source {
			s += ", " + f.name + " from " + src
		}
	}
	return s
}

// weakNote is added to a message whose facts rest on the image name.
func weakNote(p facts.Pair, fact string) string {
	if p.Base.Identity.Weak(fact) || p.Head.Identity.Weak(fact) {
		return " This rests on the image name alone (source: name): pin a base image breakwater knows, or declare the image in .breakwater.yml under images."
	}
	return ""
}

func osName(os string) string {
	switch os {
	case "debian":
		return "Debian"
	case "ubuntu":
		return "Ubuntu"
	case "alpine":
		return "Alpine"
	case "rhel":
		return "RHEL"
	case "amazonlinux":
		return "Amazon Linux"
	}
	return os
}

// suggestTag proposes a pinned tag for an image of the same family.
func suggestTag(id imageref.Identity) string {
	// Only the official images' tag grammar is <major>-<release>; other
	// families spell it their own way (16-debian-12, pg16-bookworm).
	if id.Ref.Path == "" || strings.Contains(id.Ref.Path, "/") {
		return "a tag of " + orDefault(id.Ref.Path, "the image") + " that names the OS release"
	}
	major := ""
	if id.PostgresMajor != 0 {
		major = imageref.MajorString(id.PostgresMajor) + "-"
	}
	switch {
	case id.OS == "alpine" && id.Release != "":
		return id.Ref.Path + ":" + major + "alpine" + id.Release
	case id.OS == "alpine":
		return id.Ref.Path + ":" + major + "alpine3.<N>"
	case id.OS == "debian" && id.Release != "":
		return id.Ref.Path + ":" + major + id.Release
	}
	return id.Ref.Path + ":" + major + "<os-release>"
}

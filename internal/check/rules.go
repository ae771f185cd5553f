package check

import "github.com/breakwater-ci/breakwater/internal/finding"

const (
	debianAlpineIncident = "A Postgres container's base image moved from Debian to Alpine: glibc collation became musl byte order and B-tree indexes on text went silently corrupt; queries missed rows and unique indexes let in duplicates."
	majorIncident        = "A Postgres major upgrade went half done: dev, CI and deploy ran different majors, and a downgrade was attempted though Postgres has no downgrade path."
)

// The image and Postgres version rules. Their pages are docs/rules/<ID>.md.
var (
	LibcSwap = &finding.Rule{
		ID:       "image/libc-swap",
		Title:    "Base image changes C library (glibc ↔ musl)",
		Severity: finding.Error,
		Summary:  "An image moves between glibc and musl. On a database image, or a stage that runs Postgres, text indexes built under one sort order are corrupt under the other (error); elsewhere it is a warning.",
		Incident: debianAlpineIncident,
	}
	CollationChange = &finding.Rule{
		ID:       "image/collation-change",
		Title:    "Database image changes collation library version",
		Severity: finding.Error,
		Summary:  "The glibc or ICU version under a database image changes. Crossing a known collation change (glibc 2.28) corrupts text indexes (error); any other glibc or ICU major change makes Postgres report a collation version mismatch (warning).",
		Incident: debianAlpineIncident + " Any glibc release that changes locale data does the same; glibc 2.28 is the famous one.",
	}
	FloatingOSTag = &finding.Rule{
		ID:       "image/floating-os-tag",
		Title:    "Database image tag does not pin the OS release",
		Severity: finding.Warning,
		Summary:  "A database image tag such as postgres:17, postgres:alpine or postgres:latest lets the OS and glibc under the data change with no diff in the repository.",
		Incident: "postgres:17 moved from Debian bookworm to trixie (glibc 2.36 → 2.41) with no change in any repository that used it.",
	}
	ImageUnknown = &finding.Rule{
		ID:       "image/unknown",
		Title:    "Cannot tell the OS or libc of a database image",
		Severity: finding.Notice,
		Summary:  "breakwater does not know the OS, libc or Postgres major of a database image, so the libc and collation checks could not run on it. It never guesses.",
		Incident: debianAlpineIncident + " The image there was a custom one that no list of official tags would have recognised.",
	}
	MajorUpgrade = &finding.Rule{
		ID:       "postgres/major-upgrade",
		Title:    "Postgres major version rises",
		Severity: finding.Error,
		Summary:  "The Postgres major version of an image rises. The new server cannot open the old data directory; it needs pg_upgrade or a dump and restore, and a rollback plan.",
		Incident: majorIncident,
	}
	Downgrade = &finding.Rule{
		ID:       "postgres/downgrade",
		Title:    "Postgres major version falls",
		Severity: finding.Error,
		Summary:  "The Postgres major version of an image falls. Postgres has no downgrade path: an older server cannot read a newer data directory.",
		Incident: majorIncident,
	}
)

// IdentityChanged is the rule for an image whose identity changed out of
// sight: a new digest under the same tag, or facts lost on one side.
var IdentityChanged = &finding.Rule{
	ID:       "image/identity-changed",
	Title:    "Database image changed in a way breakwater cannot see through",
	Severity: finding.Warning,
	Summary:  "A database image's digest changed while its tag stayed, or its OS and libc can be told on one side of the change but not the other. What is behind the image may have changed libc, collation or Postgres major.",
	Incident: debianAlpineIncident + " The real images were custom ones, and some swaps were a new digest under an unchanged tag.",
}

func init() {
	finding.Register(LibcSwap, CollationChange, FloatingOSTag, ImageUnknown, MajorUpgrade, Downgrade, IdentityChanged)
}

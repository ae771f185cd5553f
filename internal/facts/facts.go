// Package facts holds what extractors find on each side of a change, in
// the shape checks consume. Extractors fill it; checks only read it.
package facts

import "github.com/breakwater-ci/breakwater/internal/imageref"

// ImageUse is one place the repository names a container image.
type ImageUse struct {
	File string
	Line int
	// Key tells uses in one file apart without line numbers, so base and
	// head can be matched and fingerprints survive edits ("stage:db").
	Key string
	// Label names the use for people: `stage "db"`, `stage 2`.
	Label string
	// Image is the reference after variable expansion; "" when a
	// variable in it has no value (then Unresolved names them).
	Raw        string
	Image      string
	Unresolved []string
	// RefError says why Image is not a valid reference.
	RefError string
	// RunsPostgres is set when the use installs or starts a Postgres
	// server, so its OS holds the database's collation.
	RunsPostgres bool
	// Package is the versioned Postgres server package a Dockerfile stage
	// installs ("postgresql=11.1-r0"); PackageMajor is its major.
	Package      string
	PackageMajor imageref.PGMajor
	// BuiltFrom is the repository path of the Dockerfile that builds the
	// image, when the repository builds it (compose build:, a bake target,
	// or images: in .breakwater.yml); its identity then comes from there.
	BuiltFrom string
	Identity  imageref.Identity
}

// IsDatabase reports whether the use carries Postgres data: a Postgres
// family image or a stage that runs Postgres.
func (u *ImageUse) IsDatabase() bool { return u.Identity.Database || u.RunsPostgres }

// Pair is a use matched across the change. Base is nil for a new use,
// Head nil for a removed one.
type Pair struct {
	Base, Head *ImageUse
}

// Changed reports whether the head use is new or differs from the base.
func (p Pair) Changed() bool {
	if p.Head == nil {
		return false
	}
	if p.Base == nil {
		return true
	}
	return p.Base.Image != p.Head.Image || p.Base.Raw != p.Head.Raw || p.Base.RunsPostgres != p.Head.RunsPostgres ||
		p.Base.Package != p.Head.Package
}

// Match pairs base and head uses of one file by key, then leftover uses
// at the same position that are plausibly the same thing (same image
// repository, or both databases), so a renamed stage still pairs up but a
// stage inserted above another is not compared with it.
func Match(base, head []*ImageUse) []Pair {
	var pairs []Pair
	used := make([]bool, len(base))
	byKey := map[string]int{}
	for i, b := range base {
		byKey[b.Key] = i
	}
	matched := make([]bool, len(head))
	for j, h := range head {
		if i, ok := byKey[h.Key]; ok && !used[i] {
			used[i], matched[j] = true, true
			pairs = append(pairs, Pair{base[i], h})
		}
	}
	for j, h := range head {
		if matched[j] {
			continue
		}
		if j < len(base) && !used[j] && alike(base[j], h) {
			used[j] = true
			pairs = append(pairs, Pair{base[j], h})
			continue
		}
		pairs = append(pairs, Pair{nil, h})
	}
	for i, b := range base {
		if !used[i] {
			pairs = append(pairs, Pair{b, nil})
		}
	}
	return pairs
}

func alike(a, b *ImageUse) bool {
	if a.IsDatabase() && b.IsDatabase() {
		return true
	}
	return a.Identity.Ref.Path != "" && a.Identity.Ref.Path == b.Identity.Ref.Path
}

// EngineVersion is a managed database's engine version set in
// infrastructure code, such as Terraform's aws_db_instance.engine_version.
type EngineVersion struct {
	File string
	Line int
	// Key names the resource in its file for matching and fingerprints:
	// "aws_db_instance.main".
	Key string
	// Label names it for people: `aws_db_instance "main"`.
	Label  string
	Engine string // "postgres", "aurora-postgresql"
	// Version is the value as written ("14.9", "POSTGRES_14"); Major is
	// 0 when it could not be resolved, and Unresolved then says why.
	Version    string
	Major      imageref.PGMajor
	Unresolved string
}

// Workload is a Kubernetes controller that runs containers, with what the
// rollout rules need to know about it.
type Workload struct {
	File string
	Line int
	Kind string // Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod
	Name string
	// Replicas is nil when the manifest does not set it (Kubernetes then
	// runs one).
	Replicas *int
	// Strategy is the Deployment's strategy type as written; "" means the
	// default, RollingUpdate.
	Strategy string
	// Containers are the workload's containers and init containers; each
	// is also reported as an ImageUse.
	Containers []Container
}

// Container is one container of a workload.
type Container struct {
	Name  string
	Image string
	Line  int
	Init  bool
	// DataMounts lists mount paths backed by a persistent volume (a
	// persistentVolumeClaim, or a volumeClaimTemplate of a StatefulSet).
	DataMounts []string
	// Database is set by the caller once the image is identified: the
	// container runs a Postgres-family image.
	Database bool
}

// Manifest is what one non-Dockerfile file says.
type Manifest struct {
	Images    []*ImageUse
	Engines   []*EngineVersion
	Workloads []*Workload
}

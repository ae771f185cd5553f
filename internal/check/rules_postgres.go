package check

import "github.com/breakwater-ci/breakwater/internal/finding"

const skewIncident = "Dev ran Postgres 9.6, CI ran 9.6 and deploy ran 9.4, and nobody saw it: the versions lived in different files, and each file looked fine alone."

// Rules over every place a repository names Postgres.
var (
	VersionSkew = &finding.Rule{
		ID:       "postgres/version-skew",
		Title:    "The repository names more than one Postgres major",
		Severity: finding.Error,
		Summary:  "At head, Dockerfiles, compose files, Kubernetes manifests, Helm values, workflow services and Terraform name different Postgres majors. Error when the change introduces or widens the skew, warning when it was already there.",
		Incident: skewIncident,
	}
	UnsupportedVersion = &finding.Rule{
		ID:       "postgres/unsupported-version",
		Title:    "Postgres major outside the supported range",
		Severity: finding.Error,
		Summary:  "A Postgres reference names a major outside the range that .breakwater.yml declares under postgres.supported.",
		Incident: skewIncident + " A declared supported range makes such drift a failing check instead of a surprise in production.",
	}
	UnknownVersion = &finding.Rule{
		ID:       "postgres/unknown-version",
		Title:    "Cannot tell a managed database's Postgres version",
		Severity: finding.Notice,
		Summary:  "A managed database's engine version (Terraform) comes from a value breakwater cannot resolve, such as a variable without a default, so the version checks did not run on it.",
		Incident: skewIncident + " The deploy version was set in Terraform, where a variable hid it.",
	}
	MultiplePrimaries = &finding.Rule{
		ID:       "k8s/postgres-multiple-primaries",
		Title:    "A Kubernetes rollout can run two Postgres primaries on one data directory",
		Severity: finding.Error,
		Summary:  "A Deployment runs a Postgres image with more than one replica, or with the RollingUpdate strategy (the default) and a persistent data volume: during a rollout the old and the new pod both run Postgres on the same data.",
		Incident: "A Kubernetes rollout started the new Postgres pod before the old one stopped, and two primaries wrote to one data directory.",
	}
)

func init() {
	finding.Register(VersionSkew, UnsupportedVersion, UnknownVersion, MultiplePrimaries)
}

package manifest

import "testing"

func TestHelm(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []wantImage
	}{
		{
			name: "string image",
			src:  "image: postgres:16\n",
			want: []wantImage{{Key: "values:image", Label: "image", Line: 1, Raw: "postgres:16", Image: "postgres:16"}},
		},
		{
			name: "Bitnami postgresql.image at the tag's line",
			src: `postgresql:
  image:
    registry: docker.io
    repository: bitnami/postgresql
    tag: 14.10.0-debian-11-r1
    digest: ""
    pullPolicy: IfNotPresent
`,
			want: []wantImage{{Key: "values:postgresql.image", Label: "postgresql.image", Line: 5,
				Raw: "docker.io/bitnami/postgresql:14.10.0-debian-11-r1", Image: "docker.io/bitnami/postgresql:14.10.0-debian-11-r1"}},
		},
		{
			name: "numeric tags read as written",
			src:  "a:\n  image:\n    repository: postgres\n    tag: 16.10\nb:\n  image:\n    repository: postgres\n    tag: 16\n",
			want: []wantImage{
				{Key: "values:a.image", Label: "a.image", Line: 4, Raw: "postgres:16.10", Image: "postgres:16.10"},
				{Key: "values:b.image", Label: "b.image", Line: 8, Raw: "postgres:16", Image: "postgres:16"},
			},
		},
		{
			name: "digest, with and without tag",
			src: "a:\n  image:\n    repository: postgres\n    tag: \"16\"\n    digest: sha256:abc\n" +
				"b:\n  image:\n    repository: postgres\n    digest: sha256:def\n",
			want: []wantImage{
				{Key: "values:a.image", Label: "a.image", Line: 4, Raw: "postgres:16@sha256:abc", Image: "postgres:16@sha256:abc"},
				{Key: "values:b.image", Label: "b.image", Line: 9, Raw: "postgres@sha256:def", Image: "postgres@sha256:def"},
			},
		},
		{
			name: "global.imageRegistry replaces the registry",
			src: "global:\n  imageRegistry: mirror.example.com\npostgresql:\n  image:\n    registry: docker.io\n    repository: bitnami/postgresql\n    tag: 16.1.0-debian-12-r2\n" +
				"app:\n  image:\n    repository: example/app\n    tag: \"1.0\"\n",
			want: []wantImage{
				{Key: "values:postgresql.image", Label: "postgresql.image", Line: 7, Raw: "docker.io/bitnami/postgresql:16.1.0-debian-12-r2", Image: "mirror.example.com/bitnami/postgresql:16.1.0-debian-12-r2"},
				{Key: "values:app.image", Label: "app.image", Line: 11, Raw: "example/app:1.0", Image: "mirror.example.com/example/app:1.0"},
			},
		},
		{
			name: "no tag: the chart's appVersion, unknown here",
			src:  "image:\n  repository: ghcr.io/example/app\n  tag: \"\"\nother:\n  image:\n    repository: postgres:15\n",
			want: []wantImage{
				{Key: "values:image", Label: "image", Line: 2, Raw: "ghcr.io/example/app", Unresolved: []string{"image.tag"}},
				{Key: "values:other.image", Label: "other.image", Line: 6, Raw: "postgres:15", Image: "postgres:15"},
			},
		},
		{
			name: "sequences, *Image keys, templates, and non-images",
			src: `sidecars:
  - name: exporter
    image: prometheuscommunity/postgres-exporter:v0.15.0
kubectlImage:
  repository: bitnami/kubectl
  tag: "1.29"
tpl:
  image: "{{ .Values.global.registry }}/app:1"
notImages:
  image: true
  image2: postgres:16
  pullImage: postgres:16
  image3:
    tag: "16"
  image4: ""
`,
			want: []wantImage{
				{Key: "values:sidecars[0].image", Label: "sidecars[0].image", Line: 3, Raw: "prometheuscommunity/postgres-exporter:v0.15.0", Image: "prometheuscommunity/postgres-exporter:v0.15.0"},
				{Key: "values:kubectlImage", Label: "kubectlImage", Line: 6, Raw: "bitnami/kubectl:1.29", Image: "bitnami/kubectl:1.29"},
				{Key: "values:tpl.image", Label: "tpl.image", Line: 8, Raw: "{{ .Values.global.registry }}/app:1", Unresolved: []string{".Values.global.registry"}},
			},
		},
		{
			name: "anchors shared between images",
			src:  "x-tag: &tag \"16.2\"\nprimary:\n  image: {repository: postgres, tag: *tag}\nreplica:\n  image: {repository: postgres, tag: *tag}\n",
			want: []wantImage{
				{Key: "values:primary.image", Label: "primary.image", Line: 1, Raw: "postgres:16.2", Image: "postgres:16.2"},
				{Key: "values:replica.image", Label: "replica.image", Line: 1, Raw: "postgres:16.2", Image: "postgres:16.2"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkImages(t, Helm, "values.yaml", tt.src, nil, tt.want) })
	}
}

func TestHelmTestdata(t *testing.T) {
	checkImages(t, Helm, "charts/app/values.yaml", string(readTestdata(t, "helm/values.yaml")), nil, []wantImage{
		{Key: "values:image", Label: "image", Line: 7, Raw: "ghcr.io/example/app:1.4.2", Image: "ghcr.io/example/app:1.4.2"},
		{Key: "values:postgresql.image", Label: "postgresql.image", Line: 15,
			Raw: "docker.io/bitnami/postgresql:14.10.0-debian-11-r1", Image: "docker.io/bitnami/postgresql:14.10.0-debian-11-r1"},
		{Key: "values:postgresql.metrics.image", Label: "postgresql.metrics.image", Line: 21,
			Raw: "docker.io/bitnami/postgres-exporter:0.15.0-debian-11-r2", Image: "docker.io/bitnami/postgres-exporter:0.15.0-debian-11-r2"},
		{Key: "values:postgresql.volumePermissions.image", Label: "postgresql.volumePermissions.image", Line: 26,
			Raw: "docker.io/bitnami/os-shell:11-debian-11-r90", Image: "docker.io/bitnami/os-shell:11-debian-11-r90"},
		{Key: "values:migrations.image", Label: "migrations.image", Line: 29, Raw: "ghcr.io/example/migrate:v4.17.0", Image: "ghcr.io/example/migrate:v4.17.0"},
	})
}

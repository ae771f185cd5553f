package manifest

import (
	"reflect"
	"testing"
)

func TestCompose(t *testing.T) {
	tests := []struct {
		name string
		src  string
		env  map[string]string
		want []wantImage
	}{
		{
			name: "plain services in order, build-only skipped",
			src:  "services:\n  db:\n    image: postgres:15\n  app:\n    build: .\n  cache:\n    image: \"redis:7\"\n  empty:\n",
			want: []wantImage{
				{Key: "service:db", Label: `service "db"`, Line: 3, Raw: "postgres:15", Image: "postgres:15"},
				{Key: "service:cache", Label: `service "cache"`, Line: 7, Raw: "redis:7", Image: "redis:7"},
			},
		},
		{
			name: "default without .env",
			src:  "services:\n  db:\n    image: postgres:${PG_TAG:-15}\n",
			want: []wantImage{{Key: "service:db", Label: `service "db"`, Line: 3, Raw: "postgres:${PG_TAG:-15}", Image: "postgres:15"}},
		},
		{
			name: "default overridden by .env",
			src:  "services:\n  db:\n    image: postgres:${PG_TAG:-15}\n",
			env:  map[string]string{"PG_TAG": "16-alpine"},
			want: []wantImage{{Key: "service:db", Label: `service "db"`, Line: 3, Raw: "postgres:${PG_TAG:-15}", Image: "postgres:16-alpine"}},
		},
		{
			name: "unset variable is unresolved",
			src:  "services:\n  db:\n    image: ${REGISTRY}/postgres:$PG_TAG\n",
			env:  map[string]string{"OTHER": "x"},
			want: []wantImage{{Key: "service:db", Label: `service "db"`, Line: 3, Raw: "${REGISTRY}/postgres:$PG_TAG", Unresolved: []string{"PG_TAG", "REGISTRY"}}},
		},
		{
			name: "x- extensions, anchors and merge keys",
			src: "version: \"3.9\"\nx-pg: &pg\n  image: postgres:16-bookworm\n  restart: always\nservices:\n" +
				"  x-not-a-service:\n    image: nope:1\n  primary:\n    <<: *pg\n  standby:\n    <<: *pg\n    command: standby\n",
			want: []wantImage{
				{Key: "service:primary", Label: `service "primary"`, Line: 3, Raw: "postgres:16-bookworm", Image: "postgres:16-bookworm"},
				{Key: "service:standby", Label: `service "standby"`, Line: 3, Raw: "postgres:16-bookworm", Image: "postgres:16-bookworm"},
			},
		},
		{
			name: "image through an alias",
			src:  "x-img: &img postgres:14\nservices:\n  db:\n    image: *img\n",
			want: []wantImage{{Key: "service:db", Label: `service "db"`, Line: 1, Raw: "postgres:14", Image: "postgres:14"}},
		},
		{
			name: "numeric-looking values and null image",
			src:  "services:\n  a:\n    image: 16\n  b:\n    image: ~\n",
			want: []wantImage{{Key: "service:a", Label: `service "a"`, Line: 3, Raw: "16", Image: "16"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkImages(t, Compose, "compose.yml", tt.src, tt.env, tt.want) })
	}
}

func TestComposeTestdata(t *testing.T) {
	env := ParseDotEnv(readTestdata(t, "compose/.env"))
	checkImages(t, Compose, "docker-compose.yml", string(readTestdata(t, "compose/docker-compose.yml")), env, []wantImage{
		{Key: "service:db", Label: `service "db"`, Line: 3, Raw: "postgres:${PG_TAG:-15}", Image: "postgres:16"},
		{Key: "service:replica", Label: `service "replica"`, Line: 15, Raw: "${REGISTRY}/postgres:${PG_TAG:-15}-alpine", Image: "registry.example.com/postgres:16-alpine"},
		{Key: "service:cache", Label: `service "cache"`, Line: 19, Raw: "redis:7", Image: "redis:7"},
	})
	// Without the .env the defaults apply and REGISTRY is unknown.
	checkImages(t, Compose, "docker-compose.yml", string(readTestdata(t, "compose/docker-compose.yml")), nil, []wantImage{
		{Key: "service:db", Label: `service "db"`, Line: 3, Raw: "postgres:${PG_TAG:-15}", Image: "postgres:15"},
		{Key: "service:replica", Label: `service "replica"`, Line: 15, Raw: "${REGISTRY}/postgres:${PG_TAG:-15}-alpine", Unresolved: []string{"REGISTRY"}},
		{Key: "service:cache", Label: `service "cache"`, Line: 19, Raw: "redis:7", Image: "redis:7"},
	})
}

func TestInterpolate(t *testing.T) {
	env := map[string]string{"X": "", "TAG": "16", "PG": "postgres", "REG": "ghcr.io"}
	tests := []struct {
		in         string
		want       string
		unresolved []string
	}{
		{in: "postgres:16", want: "postgres:16"},
		{in: "$PG:$TAG", want: "postgres:16"},
		{in: "${PG}:${TAG}-alpine", want: "postgres:16-alpine"},
		{in: "postgres:${NOPE:-15}", want: "postgres:15"},
		{in: "postgres:${NOPE-15}", want: "postgres:15"},
		{in: "postgres:${TAG:-15}", want: "postgres:16"},
		// X is set but empty: :- takes the default, - keeps the empty value.
		{in: "postgres:${X:-15}", want: "postgres:15"},
		{in: "postgres:${X-15}", want: "postgres:"},
		{in: "postgres:${X}", want: "postgres:"},
		{in: "img$$1:${TAG}", want: "img$1:16"},
		{in: "$$TAG", want: "$TAG"},
		{in: "a$", want: "a$"},
		{in: "a$1", want: "a$1"},
		{in: "postgres:${TAG:?need a tag}", want: "postgres:16"},
		{in: "postgres:${NOPE:?need a tag}", unresolved: []string{"NOPE"}},
		{in: "postgres:${X:?need a tag}", unresolved: []string{"X"}},
		{in: "postgres:${X?need a tag}", want: "postgres:"},
		{in: "postgres:${NOPE?need a tag}", unresolved: []string{"NOPE"}},
		{in: "${REG:+${REG}/}postgres", want: "ghcr.io/postgres"},
		{in: "${NOPE:+${NOPE}/}postgres", want: "postgres"},
		{in: "${X:+x}${X+y}", want: "y"},
		{in: "postgres:${NOPE:-${TAG}}", want: "postgres:16"},
		{in: "postgres:${NOPE:-${ALSO_NOPE}}", unresolved: []string{"ALSO_NOPE"}},
		{in: "postgres:${TAG:-${NOPE}}", want: "postgres:16"},
		{in: "${B}/${A}:${B}", unresolved: []string{"A", "B"}},
	}
	for _, tt := range tests {
		got, unresolved, err := interpolate(tt.in, env)
		if err != nil || got != tt.want || !reflect.DeepEqual(unresolved, tt.unresolved) {
			t.Errorf("interpolate(%q) = %q, %q, %v; want %q, %q", tt.in, got, unresolved, err, tt.want, tt.unresolved)
		}
	}
	for _, bad := range []string{"postgres:${TAG", "postgres:${}", "postgres:${1}", "postgres:${TAG:}", "postgres:${TAG/a/b}", "${A:-${B}"} {
		if got, _, err := interpolate(bad, env); err == nil {
			t.Errorf("interpolate(%q) = %q, nil error; want an error", bad, got)
		}
	}
}

func TestComposeInvalidInterpolation(t *testing.T) {
	checkInputError(t, Compose, "services:\n  db:\n    image: postgres:${TAG\n", 3, "services.db.image: invalid interpolation format")
}

func TestParseDotEnv(t *testing.T) {
	src := "# comment\n\nPG_TAG=16\nexport REGISTRY = ghcr.io \nQUOTED=\"a b\\\"c\\n\"\nSINGLE='${PG_TAG} $x'\n" +
		"COMMENTED=15-alpine # the tag\nHASH=a#b\nIMAGE=postgres:${PG_TAG}\nFROM_ENV=${HOME}/x\nEMPTY=\n" +
		"not an assignment\nWIN=1\r\n=nokey\n"
	want := map[string]string{
		"PG_TAG": "16", "REGISTRY": "ghcr.io", "QUOTED": "a b\"c\n", "SINGLE": "${PG_TAG} $x",
		"COMMENTED": "15-alpine", "HASH": "a#b", "IMAGE": "postgres:16", "EMPTY": "", "WIN": "1",
	}
	if got := ParseDotEnv([]byte(src)); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseDotEnv:\n got %q\nwant %q", got, want)
	}
}

func TestComposeBuild(t *testing.T) {
	src := `services:
  db:
    build: ./db
    image: acme/db
  api:
    build:
      context: services/api
      dockerfile: deploy/Dockerfile.prod
    image: acme/api:${TAG:-1}
  remote:
    build: https://github.com/acme/x.git
    image: acme/x
  outside:
    build: ../../elsewhere
    image: acme/y
  plain:
    image: postgres:16-bookworm
`
	m, err := Extract(Compose, "deploy/compose.yml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"service:db":      "deploy/db/Dockerfile",
		"service:api":     "deploy/services/api/deploy/Dockerfile.prod",
		"service:remote":  "",
		"service:outside": "",
		"service:plain":   "",
	}
	if len(m.Images) != len(want) {
		t.Fatalf("%d images", len(m.Images))
	}
	for _, u := range m.Images {
		if u.BuiltFrom != want[u.Key] {
			t.Errorf("%s: BuiltFrom = %q, want %q", u.Key, u.BuiltFrom, want[u.Key])
		}
	}
}

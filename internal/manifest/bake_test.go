package manifest

import (
	"reflect"
	"testing"
)

func TestBake(t *testing.T) {
	src := `group "default" {
  targets = ["db", "api"]
}

target "db" {
  context    = "docker/db"
  tags       = ["acme/pgsql:latest", "ghcr.io/acme/pgsql:1"]
}

target "api" {
  context    = "."
  dockerfile = "deploy/api.Dockerfile"
  tags       = ["acme/api"]
}

target "vars" {
  context = "${CTX}"
  tags    = ["acme/vars"]
}

target "remote" {
  context = "https://github.com/acme/x.git"
  tags    = ["acme/remote"]
}
`
	got, err := Bake("build/docker-bake.hcl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"acme/pgsql":         "build/docker/db/Dockerfile",
		"ghcr.io/acme/pgsql": "build/docker/db/Dockerfile",
		"acme/api":           "build/deploy/api.Dockerfile",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if _, err := Bake("docker-bake.hcl", []byte("target \"x\" {\n  tags = [\n")); err == nil {
		t.Error("a broken bake file parsed")
	}
	for p, want := range map[string]bool{"docker-bake.hcl": true, "ci/docker-bake.override.hcl": true, "main.tf": false, "bake.hcl": false} {
		if IsBake(p) != want {
			t.Errorf("IsBake(%q) = %v", p, !want)
		}
	}
}

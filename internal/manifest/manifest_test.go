package manifest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/facts"
	"github.com/breakwater-ci/breakwater/internal/finding"
)

// wantImage is what a case pins down of an ImageUse.
type wantImage struct {
	Key, Label string
	Line       int
	Raw, Image string
	Unresolved []string
}

func imagesOf(m *facts.Manifest) []wantImage {
	out := []wantImage{}
	for _, u := range m.Images {
		out = append(out, wantImage{u.Key, u.Label, u.Line, u.Raw, u.Image, u.Unresolved})
	}
	return out
}

// checkImages extracts src and compares every use with want; it also
// checks what the caller relies on: File set, Identity left zero.
func checkImages(t *testing.T, k Kind, file, src string, env map[string]string, want []wantImage) *facts.Manifest {
	t.Helper()
	m, err := Extract(k, file, []byte(src), env)
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	if want == nil {
		want = []wantImage{}
	}
	if got := imagesOf(m); !reflect.DeepEqual(got, want) {
		t.Errorf("images:\n got %s\nwant %s", dumpImages(got), dumpImages(want))
	}
	for _, u := range m.Images {
		if u.File != file || u.RunsPostgres || !reflect.DeepEqual(u.Identity, facts.ImageUse{}.Identity) {
			t.Errorf("%s: File %q, RunsPostgres %v, Identity %+v: want %q, false, zero", u.Key, u.File, u.RunsPostgres, u.Identity, file)
		}
	}
	return m
}

func dumpImages(ws []wantImage) string {
	var b strings.Builder
	for _, w := range ws {
		fmt.Fprintf(&b, "\n\t%+v", w)
	}
	return b.String()
}

// checkInputError extracts src and wants an *finding.InputError at line
// whose message contains msg.
func checkInputError(t *testing.T, k Kind, src string, line int, msg string) {
	t.Helper()
	m, err := Extract(k, "f.yaml", []byte(src), nil)
	var ie *finding.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("Extract = %v, %v; want an *finding.InputError", m, err)
	}
	if ie.File != "f.yaml" || ie.Line != line || !strings.Contains(ie.Msg, msg) {
		t.Errorf("error = %q (file %q, line %d); want line %d and %q", ie.Error(), ie.File, ie.Line, line, msg)
	}
	if m != nil {
		t.Errorf("manifest = %+v alongside an error; want nil", m)
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestClassify(t *testing.T) {
	tests := []struct {
		path string
		want Kind
	}{
		{".github/workflows/ci.yml", Workflow},
		{".github/workflows/release.yaml", Workflow},
		{"./.github/workflows/ci.yml", Workflow},
		{"services/api/.github/workflows/ci.yml", Workflow},
		{".github/workflows/sub/ci.yml", None},
		{".github/dependabot.yml", None},
		{".github/ISSUE_TEMPLATE/bug.yaml", None},
		{"compose.yml", Compose},
		{"compose.yaml", Compose},
		{"deploy/compose.prod.yaml", Compose},
		{"docker-compose.yml", Compose},
		{"docker-compose.prod.yml", Compose},
		{"docker-compose-dev.yaml", Compose},
		{"Docker-Compose.YML", Compose},
		{"composer.yml", Kubernetes},
		{"compose.json", None},
		{"values.yaml", Helm},
		{"charts/db/values.yml", Helm},
		{"charts/db/values-prod.yaml", Helm},
		{"charts/db/values.staging.yml", Helm},
		{"charts/db/values.schema.json", None},
		{"charts/db/Chart.yaml", None},
		{"charts/db/Chart.lock", None},
		{"charts/db/templates/deployment.yaml", None},
		{"charts/db/templates/values.yaml", None},
		{"infra/main.tf", TerraformFile},
		{"infra/main.tf.json", None},
		{"infra/prod.tfvars", None},
		{"k8s/db.yaml", Kubernetes},
		{"deploy.yml", Kubernetes},
		{"openapi.yaml", Kubernetes},
		{".breakwater.yml", None},
		{".pre-commit-config.yaml", None},
		{"action.yml", None},
		{"tools/lint/action.yaml", None},
		{"mkdocs.yml", None},
		{".golangci.yml", None},
		{"pnpm-lock.yaml", None},
		{"web/pnpm-lock.yaml", None},
		{"deps.lock.yaml", None},
		{"Dockerfile", None},
		{"README.md", None},
		{"yaml", None},
	}
	for _, tt := range tests {
		if got := Classify(tt.path); got != tt.want {
			t.Errorf("Classify(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{None: "none", Compose: "compose", Kubernetes: "kubernetes",
		Helm: "helm", Workflow: "workflow", TerraformFile: "terraform", Kind(42): "kind(42)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

func TestExtractRejectsOtherKinds(t *testing.T) {
	for _, k := range []Kind{None, TerraformFile} {
		if _, err := Extract(k, "main.tf", nil, nil); err == nil {
			t.Errorf("Extract(%v) = nil error; want one", k)
		}
	}
}

func TestEmptyFiles(t *testing.T) {
	for _, k := range []Kind{Compose, Kubernetes, Helm, Workflow} {
		for _, src := range []string{"", "# nothing\n", "---\n---\n", "just a string\n", "[1, 2]\n"} {
			m, err := Extract(k, "f.yaml", []byte(src), nil)
			if err != nil || m == nil || len(m.Images)+len(m.Workloads) != 0 {
				t.Errorf("Extract(%v, %q) = %+v, %v; want an empty manifest", k, src, m, err)
			}
		}
	}
}

func TestMalformedYAML(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		src  string
		line int
		msg  string
	}{
		{
			name: "scanner error in the third document",
			kind: Kubernetes,
			src:  "apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Service\n---\napiVersion: v1\nkind: Pod\nmetadata: name: x\n",
			line: 9, msg: "mapping values are not allowed",
		},
		{
			name: "bad indentation: line of the enclosing block",
			kind: Kubernetes,
			src:  "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n   image: y\n",
			line: 4, msg: "did not find expected key",
		},
		{
			name: "unclosed flow sequence",
			kind: Compose,
			src:  "services:\n  db:\n    image: postgres:16\n    ports: [5432\n  app:\n    image: app\n",
			line: 4, msg: "did not find expected ',' or ']'",
		},
		{
			name: "unclosed quote",
			kind: Helm,
			src:  "image:\n  repository: postgres\n  tag: \"16\n",
			line: 3, msg: "found unexpected end of stream",
		},
		{
			name: "parser error on the first line",
			kind: Workflow,
			src:  "- a\nb: c\n",
			line: 2, msg: "did not find expected '-' indicator",
		},
		{
			name: "unknown anchor",
			kind: Compose,
			src:  "services:\n  db:\n    <<: *base\n",
			line: 3, msg: "unknown anchor 'base'",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkInputError(t, tt.kind, tt.src, tt.line, tt.msg) })
	}
}

func TestNonKubernetesYAMLWithSyntaxErrorIsSkipped(t *testing.T) {
	// A file that never mentions apiVersion cannot be a manifest; it is
	// not parsed, so a template or a foreign format does not fail.
	m, err := Extract(Kubernetes, "ansible/site.yml", []byte("- hosts: all\n  tasks: {{ broken\n"), nil)
	if err != nil || len(m.Images) != 0 {
		t.Errorf("Extract = %+v, %v; want empty and no error", m, err)
	}
}

// aliasBomb is the billion laughs attack: ten levels of ten aliases each
// expand to 10^10 nodes.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= 10; i++ {
		p := fmt.Sprintf("*a%d", i-1)
		fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, strings.Repeat(p+", ", 9)+p)
	}
	b.WriteString("services:\n  db:\n    image: postgres:16\n    x-bomb: *a10\nimage: *a10\n")
	return b.String()
}

func TestAliasBomb(t *testing.T) {
	for _, k := range []Kind{Compose, Kubernetes, Helm, Workflow} {
		t.Run(k.String(), func(t *testing.T) {
			src := aliasBomb()
			if k == Kubernetes {
				src = "apiVersion: v1\nkind: Pod\n" + src
			}
			start := time.Now()
			_, err := Extract(k, "bomb.yaml", []byte(src), nil)
			var ie *finding.InputError
			if !errors.As(err, &ie) || !strings.Contains(ie.Msg, "aliases expand to more than 100000 nodes") || ie.Line == 0 {
				t.Errorf("Extract = %v; want an InputError about alias expansion with a line", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestAliasCycle(t *testing.T) {
	checkInputError(t, Helm, "a: &a\n  b: *a\n", 2, "alias *a refers to a node that contains it")
}

func TestAliasesWithinBudget(t *testing.T) {
	// 200 services merging a shared block: well under the budget.
	var b strings.Builder
	b.WriteString("x-base: &base\n  image: postgres:16\n  restart: always\n  environment: {A: 1, B: 2, C: 3}\nservices:\n")
	for i := range 200 {
		fmt.Fprintf(&b, "  s%d:\n    <<: *base\n", i)
	}
	m, err := Extract(Compose, "compose.yml", []byte(b.String()), nil)
	if err != nil || len(m.Images) != 200 || m.Images[199].Key != "service:s199" || m.Images[0].Line != 2 {
		t.Fatalf("Extract: %v, %d images", err, len(m.Images))
	}
}

func TestTooManyImages(t *testing.T) {
	var b strings.Builder
	b.WriteString("services:\n")
	for i := range 20_000 {
		fmt.Fprintf(&b, "  s%d:\n    image: postgres:16\n", i)
	}
	_, err := Extract(Compose, "compose.yml", []byte(b.String()), nil)
	var ie *finding.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("Extract = %v; want an InputError", err)
	}
	if want := "too many services: the file names 20000 images (limit 10000)"; ie.Msg != want || ie.Line != 3+2*10_000 {
		t.Errorf("error %q at line %d; want %q at line %d", ie.Msg, ie.Line, want, 3+2*10_000)
	}
	// At the limit is fine.
	b.Reset()
	b.WriteString("services:\n")
	for i := range 10_000 {
		fmt.Fprintf(&b, "  s%d:\n    image: postgres:16\n", i)
	}
	if m, err := Extract(Compose, "compose.yml", []byte(b.String()), nil); err != nil || len(m.Images) != 10_000 {
		t.Errorf("10,000 services: %v", err)
	}
}

func TestMergeKeys(t *testing.T) {
	// Keys written in the mapping win over merged ones wherever they
	// appear; among merged mappings the first wins.
	src := `x-a: &a {image: "a:1", restart: always}
x-b: &b {image: "b:1"}
services:
  one:
    image: own:1
    <<: [*a, *b]
  two:
    <<: [*b, *a]
  three:
    <<: *a
    image: own:3
`
	checkImages(t, Compose, "compose.yml", src, nil, []wantImage{
		{Key: "service:one", Label: `service "one"`, Line: 5, Raw: "own:1", Image: "own:1"},
		{Key: "service:two", Label: `service "two"`, Line: 2, Raw: "b:1", Image: "b:1"},
		{Key: "service:three", Label: `service "three"`, Line: 11, Raw: "own:3", Image: "own:3"},
	})
}

// k8sBenchFile is a 500-line multi-document manifest.
func k8sBenchFile() []byte {
	doc := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%d
  namespace: prod
spec:
  replicas: 2
  strategy:
    type: RollingUpdate
  template:
    spec:
      initContainers:
        - name: migrate
          image: ghcr.io/example/migrate:v4
      containers:
        - name: app
          image: ghcr.io/example/app:1.%d.0
          volumeMounts:
            - name: data
              mountPath: /data
      volumes:
        - name: data
          persistentVolumeClaim:
            claimName: data-%d
---
`
	var b strings.Builder
	for i := 0; strings.Count(b.String(), "\n") < 500; i++ {
		fmt.Fprintf(&b, doc, i, i, i)
	}
	return []byte(b.String())
}

func BenchmarkExtractKubernetes(b *testing.B) {
	data := k8sBenchFile()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := Extract(Kubernetes, "k8s/apps.yaml", data, nil)
		if err != nil || len(m.Workloads) != 20 {
			b.Fatalf("Extract: %v, %d workloads", err, len(m.Workloads))
		}
	}
}

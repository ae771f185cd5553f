package manifest

import "testing"

func TestWorkflow(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []wantImage
	}{
		{
			name: "services as mappings and strings, container as string and mapping",
			src: `on: push
jobs:
  test:
    runs-on: ubuntu-latest
    container: golang:1.22
    services:
      postgres:
        image: postgres:15
        ports: ["5432:5432"]
      redis: redis:7
  build:
    container:
      image: node:20-bookworm
      options: --user root
    steps: [{run: make}]
  noimage:
    services:
      broken: {ports: [1]}
`,
			want: []wantImage{
				{Key: "job:test/container", Label: `container of job "test"`, Line: 5, Raw: "golang:1.22", Image: "golang:1.22"},
				{Key: "job:test/service:postgres", Label: `service "postgres" of job "test"`, Line: 8, Raw: "postgres:15", Image: "postgres:15"},
				{Key: "job:test/service:redis", Label: `service "redis" of job "test"`, Line: 10, Raw: "redis:7", Image: "redis:7"},
				{Key: "job:build/container", Label: `container of job "build"`, Line: 13, Raw: "node:20-bookworm", Image: "node:20-bookworm"},
			},
		},
		{
			name: "expression without a literal matrix",
			src:  "jobs:\n  test:\n    services:\n      pg:\n        image: ${{ vars.PG_IMAGE }}\n      pg2:\n        image: \"postgres:${{ matrix.pg }}-${{matrix.os}}\"\n",
			want: []wantImage{
				{Key: "job:test/service:pg", Label: `service "pg" of job "test"`, Line: 5, Raw: "${{ vars.PG_IMAGE }}", Unresolved: []string{"vars.PG_IMAGE"}},
				{Key: "job:test/service:pg2", Label: `service "pg2" of job "test"`, Line: 7, Raw: "postgres:${{ matrix.pg }}-${{matrix.os}}", Unresolved: []string{"matrix.pg", "matrix.os"}},
			},
		},
		{
			name: "literal matrix expands, include adds values",
			src: `jobs:
  test:
    strategy:
      matrix:
        pg: [14, "15"]
        include:
          - pg: 16
    services:
      postgres:
        image: postgres:${{ matrix.pg }}
`,
			want: []wantImage{
				{Key: "job:test/service:postgres[pg=14]", Label: `service "postgres" of job "test" (pg=14)`, Line: 10, Raw: "postgres:${{ matrix.pg }}", Image: "postgres:14"},
				{Key: "job:test/service:postgres[pg=15]", Label: `service "postgres" of job "test" (pg=15)`, Line: 10, Raw: "postgres:${{ matrix.pg }}", Image: "postgres:15"},
				{Key: "job:test/service:postgres[pg=16]", Label: `service "postgres" of job "test" (pg=16)`, Line: 10, Raw: "postgres:${{ matrix.pg }}", Image: "postgres:16"},
			},
		},
		{
			name: "two matrix variables",
			src: `jobs:
  test:
    strategy: {matrix: {variant: [bookworm, alpine], pg: [15, 16]}}
    container: postgres:${{ matrix.pg }}-${{ matrix.variant }}
`,
			want: []wantImage{
				{Key: "job:test/container[pg=15,variant=bookworm]", Label: `container of job "test" (pg=15,variant=bookworm)`, Line: 4, Raw: "postgres:${{ matrix.pg }}-${{ matrix.variant }}", Image: "postgres:15-bookworm"},
				{Key: "job:test/container[pg=15,variant=alpine]", Label: `container of job "test" (pg=15,variant=alpine)`, Line: 4, Raw: "postgres:${{ matrix.pg }}-${{ matrix.variant }}", Image: "postgres:15-alpine"},
				{Key: "job:test/container[pg=16,variant=bookworm]", Label: `container of job "test" (pg=16,variant=bookworm)`, Line: 4, Raw: "postgres:${{ matrix.pg }}-${{ matrix.variant }}", Image: "postgres:16-bookworm"},
				{Key: "job:test/container[pg=16,variant=alpine]", Label: `container of job "test" (pg=16,variant=alpine)`, Line: 4, Raw: "postgres:${{ matrix.pg }}-${{ matrix.variant }}", Image: "postgres:16-alpine"},
			},
		},
		{
			name: "matrix from an expression stays unresolved",
			src: `jobs:
  test:
    strategy:
      matrix:
        pg: ${{ fromJSON(needs.setup.outputs.versions) }}
    services:
      postgres: {image: "postgres:${{ matrix.pg }}"}
`,
			want: []wantImage{{Key: "job:test/service:postgres", Label: `service "postgres" of job "test"`, Line: 7, Raw: "postgres:${{ matrix.pg }}", Unresolved: []string{"matrix.pg"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkImages(t, Workflow, ".github/workflows/ci.yml", tt.src, nil, tt.want) })
	}
}

func TestWorkflowTestdata(t *testing.T) {
	raw := "postgres:${{ matrix.pg }}"
	checkImages(t, Workflow, ".github/workflows/ci.yml", string(readTestdata(t, "workflow/ci.yml")), nil, []wantImage{
		{Key: "job:test/service:postgres[pg=14]", Label: `service "postgres" of job "test" (pg=14)`, Line: 11, Raw: raw, Image: "postgres:14"},
		{Key: "job:test/service:postgres[pg=15]", Label: `service "postgres" of job "test" (pg=15)`, Line: 11, Raw: raw, Image: "postgres:15"},
		{Key: "job:test/service:postgres[pg=16]", Label: `service "postgres" of job "test" (pg=16)`, Line: 11, Raw: raw, Image: "postgres:16"},
		{Key: "job:test/service:redis", Label: `service "redis" of job "test"`, Line: 15, Raw: "redis:7-alpine", Image: "redis:7-alpine"},
		{Key: "job:lint/container", Label: `container of job "lint"`, Line: 19, Raw: "golang:1.22-bookworm", Image: "golang:1.22-bookworm"},
		{Key: "job:e2e/container", Label: `container of job "e2e"`, Line: 24, Raw: "node:20", Image: "node:20"},
		{Key: "job:e2e/service:db", Label: `service "db" of job "e2e"`, Line: 27, Raw: "${{ vars.PG_IMAGE }}", Unresolved: []string{"vars.PG_IMAGE"}},
	})
}

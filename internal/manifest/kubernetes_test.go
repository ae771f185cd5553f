package manifest

import (
	"reflect"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/facts"
)

func intp(i int) *int { return &i }

func TestKubernetes(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		images    []wantImage
		workloads []facts.Workload
	}{
		{
			name: "Deployment with default strategy and a PVC",
			src: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: db
spec:
  template:
    spec:
      containers:
        - name: postgres
          image: postgres:16
          volumeMounts:
            - {name: data, mountPath: /var/lib/postgresql/data}
            - {name: run, mountPath: /var/run/postgresql}
      volumes:
        - name: data
          persistentVolumeClaim: {claimName: db}
        - name: run
          emptyDir: {}
`,
			images: []wantImage{{Key: "Deployment/db/container:postgres", Label: `container "postgres" of Deployment "db"`, Line: 10, Raw: "postgres:16", Image: "postgres:16"}},
			workloads: []facts.Workload{{Line: 2, Kind: "Deployment", Name: "db", Containers: []facts.Container{
				{Name: "postgres", Image: "postgres:16", Line: 10, DataMounts: []string{"/var/lib/postgresql/data"}},
			}}},
		},
		{
			name: "Deployment with Recreate and replicas",
			src: `apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: prod}
spec:
  replicas: 2
  strategy:
    type: Recreate
  template:
    spec:
      containers:
        - name: postgres
          image: postgres:16-alpine
`,
			images: []wantImage{{Key: "Deployment/prod/db/container:postgres", Label: `container "postgres" of Deployment "prod/db"`, Line: 12, Raw: "postgres:16-alpine", Image: "postgres:16-alpine"}},
			workloads: []facts.Workload{{Line: 2, Kind: "Deployment", Name: "db", Replicas: intp(2), Strategy: "Recreate", Containers: []facts.Container{
				{Name: "postgres", Image: "postgres:16-alpine", Line: 12},
			}}},
		},
		{
			name: "StatefulSet with volumeClaimTemplates; updateStrategy is not Strategy",
			src: `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: pg
spec:
  replicas: 1
  updateStrategy: {type: OnDelete}
  template:
    spec:
      initContainers:
        - name: init
          image: busybox
          volumeMounts: [{name: pgdata, mountPath: /data}]
      containers:
        - name: postgres
          image: postgres:15
          volumeMounts: [{name: pgdata, mountPath: /var/lib/postgresql/data}]
  volumeClaimTemplates:
    - metadata: {name: pgdata}
`,
			images: []wantImage{
				{Key: "StatefulSet/pg/initContainer:init", Label: `init container "init" of StatefulSet "pg"`, Line: 12, Raw: "busybox", Image: "busybox"},
				{Key: "StatefulSet/pg/container:postgres", Label: `container "postgres" of StatefulSet "pg"`, Line: 16, Raw: "postgres:15", Image: "postgres:15"},
			},
			workloads: []facts.Workload{{Line: 2, Kind: "StatefulSet", Name: "pg", Replicas: intp(1), Containers: []facts.Container{
				{Name: "init", Image: "busybox", Line: 12, Init: true, DataMounts: []string{"/data"}},
				{Name: "postgres", Image: "postgres:15", Line: 16, DataMounts: []string{"/var/lib/postgresql/data"}},
			}}},
		},
		{
			name: "CronJob, Job, Pod, DaemonSet and ReplicaSet",
			src: `apiVersion: batch/v1
kind: CronJob
metadata: {name: backup}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: dump, image: "postgres:16-alpine"}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      containers: [{name: m, image: migrate/migrate:v4}]
---
apiVersion: v1
kind: Pod
metadata: {generateName: debug-}
spec:
  containers: [{name: psql, image: postgres:14}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  template:
    spec:
      containers: [{name: a, image: agent:1}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  replicas: 3
  template:
    spec:
      containers: [{image: app:2}]
`,
			images: []wantImage{
				{Key: "CronJob/backup/container:dump", Label: `container "dump" of CronJob "backup"`, Line: 9, Raw: "postgres:16-alpine", Image: "postgres:16-alpine"},
				{Key: "Job/migrate/container:m", Label: `container "m" of Job "migrate"`, Line: 17, Raw: "migrate/migrate:v4", Image: "migrate/migrate:v4"},
				{Key: "Pod/debug-/container:psql", Label: `container "psql" of Pod "debug-"`, Line: 23, Raw: "postgres:14", Image: "postgres:14"},
				{Key: "DaemonSet/agent/container:a", Label: `container "a" of DaemonSet "agent"`, Line: 31, Raw: "agent:1", Image: "agent:1"},
				{Key: "ReplicaSet/rs/container#0", Label: `container 0 of ReplicaSet "rs"`, Line: 40, Raw: "app:2", Image: "app:2"},
			},
			workloads: []facts.Workload{
				{Line: 2, Kind: "CronJob", Name: "backup", Containers: []facts.Container{{Name: "dump", Image: "postgres:16-alpine", Line: 9}}},
				{Line: 12, Kind: "Job", Name: "migrate", Containers: []facts.Container{{Name: "m", Image: "migrate/migrate:v4", Line: 17}}},
				{Line: 20, Kind: "Pod", Name: "debug-", Containers: []facts.Container{{Name: "psql", Image: "postgres:14", Line: 23}}},
				{Line: 26, Kind: "DaemonSet", Name: "agent", Containers: []facts.Container{{Name: "a", Image: "agent:1", Line: 31}}},
				{Line: 34, Kind: "ReplicaSet", Name: "rs", Replicas: intp(3), Containers: []facts.Container{{Image: "app:2", Line: 40}}},
			},
		},
		{
			name: "List items are walked",
			src: `apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: db, namespace: dev}
    spec:
      template:
        spec:
          containers:
            - name: postgres
              image: postgres:13
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: cfg}
`,
			images:    []wantImage{{Key: "Deployment/dev/db/container:postgres", Label: `container "postgres" of Deployment "dev/db"`, Line: 12, Raw: "postgres:13", Image: "postgres:13"}},
			workloads: []facts.Workload{{Line: 5, Kind: "Deployment", Name: "db", Containers: []facts.Container{{Name: "postgres", Image: "postgres:13", Line: 12}}}},
		},
		{
			name: "non-workloads and non-Kubernetes documents are skipped",
			src: `# kind of a config file
apiVersion: v1
kind: ConfigMap
metadata: {name: x}
data: {image: "postgres:16"}
---
kind: Deployment
spec: {template: {spec: {containers: [{name: a, image: "no-apiversion:1"}]}}}
---
name: some tool config
image: postgres:16
---
- a list
`,
		},
		{
			name: "templated image is unresolved; replicas not an integer is nil",
			src: `apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  replicas: ${REPLICAS}
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/example/app:${TAG}
        - name: noimage
`,
			images: []wantImage{{Key: "Deployment/app/container:app", Label: `container "app" of Deployment "app"`, Line: 10, Raw: "ghcr.io/example/app:${TAG}", Unresolved: []string{"TAG"}}},
			workloads: []facts.Workload{{Line: 2, Kind: "Deployment", Name: "app", Containers: []facts.Container{
				{Name: "app", Image: "ghcr.io/example/app:${TAG}", Line: 10},
				{Name: "noimage", Line: 11},
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := checkImages(t, Kubernetes, "k8s.yaml", tt.src, nil, tt.images)
			checkWorkloads(t, m, "k8s.yaml", tt.workloads)
		})
	}
}

func checkWorkloads(t *testing.T, m *facts.Manifest, file string, want []facts.Workload) {
	t.Helper()
	got := []facts.Workload{}
	for _, w := range m.Workloads {
		if w.File != file {
			t.Errorf("workload %s: File %q, want %q", w.Name, w.File, file)
		}
		c := *w
		c.File = ""
		got = append(got, c)
	}
	if want == nil {
		want = []facts.Workload{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("workloads:\n got %+v\nwant %+v", got, want)
	}
}

func TestKubernetesTestdata(t *testing.T) {
	m := checkImages(t, Kubernetes, "k8s/db.yaml", string(readTestdata(t, "k8s/db.yaml")), nil, []wantImage{
		{Key: "Deployment/prod/db/initContainer:init-perms", Label: `init container "init-perms" of Deployment "prod/db"`, Line: 20, Raw: "busybox:1.36", Image: "busybox:1.36"},
		{Key: "Deployment/prod/db/container:postgres", Label: `container "postgres" of Deployment "prod/db"`, Line: 26, Raw: "postgres:16", Image: "postgres:16"},
		{Key: "StatefulSet/pg/container:postgres", Label: `container "postgres" of StatefulSet "pg"`, Line: 52, Raw: "postgres:15-alpine", Image: "postgres:15-alpine"},
		{Key: "CronJob/backup/container:dump", Label: `container "dump" of CronJob "backup"`, Line: 74, Raw: "postgres:16-alpine", Image: "postgres:16-alpine"},
	})
	checkWorkloads(t, m, "k8s/db.yaml", []facts.Workload{
		{Line: 10, Kind: "Deployment", Name: "db", Replicas: intp(1), Containers: []facts.Container{
			{Name: "init-perms", Image: "busybox:1.36", Line: 20, Init: true, DataMounts: []string{"/var/lib/postgresql/data"}},
			{Name: "postgres", Image: "postgres:16", Line: 26, DataMounts: []string{"/var/lib/postgresql/data"}},
		}},
		{Line: 41, Kind: "StatefulSet", Name: "pg", Replicas: intp(3), Containers: []facts.Container{
			{Name: "postgres", Image: "postgres:15-alpine", Line: 52, DataMounts: []string{"/var/lib/postgresql/data"}},
		}},
		{Line: 63, Kind: "CronJob", Name: "backup", Containers: []facts.Container{
			{Name: "dump", Image: "postgres:16-alpine", Line: 74},
		}},
	})
}
